//! Faults on all three stand-ins at once: 10% of calls throttled or failed (in each API's own
//! error shape, AWS's too, through the proxy in front of moto) and added latency. Create then delete
//! must succeed in 20 runs out of 20, each with its own seed.

use crate::common;

use std::time::Duration;

use common::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET, SNOWFLAKE_ACCOUNT};
use common::{FULL, Test};
use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::snowflake::{self, Snowflake, SnowflakeConfig};
use local_cloud::{FaultConfig, LocalCloud, aws_proxy};
use secrecy::ExposeSecret as _;

fn faults(seed: u64) -> FaultConfig {
    FaultConfig {
        min_latency_ms: 2,
        max_latency_ms: 15,
        throttle_rate: 0.05,
        error_rate: 0.05,
        retry_after_secs: 0,
        seed,
        hang_at: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn create_and_delete_succeed_in_20_runs_of_20_through_faults_everywhere() {
    let admin = kickstart::snowflake::KeyPair::generate().unwrap();
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), admin.private_pem.expose_secret()).unwrap();
    let moto = tokio::task::spawn_blocking(clouds::moto).await.unwrap();
    let services = confluent::router(
        ConfluentConfig::new(
            CONFLUENT_KEY,
            CONFLUENT_SECRET,
            Delays::uniform(Duration::from_millis(50)),
        )
        .with_customer_aws(&moto),
    )
    .merge(snowflake::router(
        Snowflake::new(SnowflakeConfig {
            account: SNOWFLAKE_ACCOUNT.into(),
            admin_user: "ADMIN".into(),
            admin_public_key: admin.public_body.clone(),
            iam_user_arn: "arn:aws:iam::999999999999:user/snowflake".into(),
        })
        .with_customer_aws(&moto),
    ));
    let addr = "127.0.0.1:0".parse().unwrap();
    let emulators = LocalCloud::start(addr, faults(0), services).await.unwrap();
    let proxy = LocalCloud::start(addr, faults(0), aws_proxy::router(&moto))
        .await
        .unwrap();

    let mut injected = 0;
    for run in 1..=20u64 {
        emulators.faults.set(faults(run));
        proxy.faults.set(faults(1000 + run));
        let env = [
            ("CONFLUENT_CLOUD_ENDPOINT", emulators.url()),
            ("SNOWFLAKE_ENDPOINT", emulators.url()),
            (
                "SNOWFLAKE_PRIVATE_KEY_FILE",
                key_file.path().display().to_string(),
            ),
            ("AWS_ENDPOINT_URL", proxy.url()),
        ];
        let (a, b) = (env.clone(), env);
        let (_, dir) = tokio::task::spawn_blocking(move || {
            let mut t = Test::new().args(["create"]).args(FULL);
            for (k, v) in &a {
                t = t.env(k, v);
            }
            t.status(0).run()
        })
        .await
        .unwrap();
        let path = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut t = Test::new().in_dir(&path).args(["delete"]).args(FULL);
            for (k, v) in &b {
                t = t.env(k, v);
            }
            t.status(0).run()
        })
        .await
        .unwrap();
        injected += emulators
            .journal
            .calls()
            .iter()
            .filter(|c| c.injected)
            .count();
        injected += proxy.journal.calls().iter().filter(|c| c.injected).count();
        emulators.journal.clear();
        proxy.journal.clear();
    }
    assert!(
        injected > 100,
        "the faults fired ({injected} injected answers to mutating calls)"
    );
}
