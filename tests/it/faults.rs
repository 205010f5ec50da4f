//! Faults on all three stand-ins at once: 10% of calls throttled or failed (in each API's own
//! error shape, AWS's too, through the proxy in front of moto) and added latency. Create then delete
//! must succeed in 20 runs out of 20, each with its own seed.

use crate::common;

use std::time::Duration;

use common::clouds::{self, OwnEmulators};
use common::{FULL, Test};
use local_cloud::confluent::Delays;
use local_cloud::{FaultConfig, LocalCloud, aws_proxy};

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
    let own = OwnEmulators::start(Delays::uniform(Duration::from_millis(50)), faults(0)).await;
    let emulators = &own.cloud;
    let moto = tokio::task::spawn_blocking(clouds::moto).await.unwrap();
    let addr = "127.0.0.1:0".parse().unwrap();
    let proxy = LocalCloud::start(addr, faults(0), aws_proxy::router(&moto))
        .await
        .unwrap();

    let mut injected = 0;
    for run in 1..=20u64 {
        emulators.faults.set(faults(run));
        proxy.faults.set(faults(1000 + run));
        let mut env = own.env();
        env.push(("AWS_ENDPOINT_URL", proxy.url()));
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
