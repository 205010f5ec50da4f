//! The stand-ins a test process runs the binary against: moto for AWS, and one local-cloud serving
//! the Confluent and Snowflake emulators; plus an AWS profile `dev` that points at moto. Each is
//! started once per test process and ends with it.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::snowflake::{self, Snowflake, SnowflakeConfig};
use local_cloud::{FaultConfig, LocalCloud};
use secrecy::{ExposeSecret as _, SecretString};

pub const CONFLUENT_KEY: &str = "CKEY123";
pub const CONFLUENT_SECRET: &str = "cloud-secret-do-not-print";
pub const SNOWFLAKE_ACCOUNT: &str = "LOCALORG-TESTS";
/// The IAM user Snowflake's volumes and catalog integrations assume roles as.
pub const SNOWFLAKE_IAM_USER: &str = "arn:aws:iam::999999999999:user/snowflake";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn answers(port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

/// moto, started from a thread that lives as long as the process, so it dies with the process
/// (the parent-death signal follows the thread that spawned it). A moto that exits before it
/// answers (its port taken in the moment between choosing and binding it) is started again on
/// another; one that neither answers nor exits in two minutes fails the test with its stderr.
pub fn moto() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let server = std::env::var_os("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/.venv/bin/moto_server"
                ))
            });
        assert!(
            server.exists(),
            "moto is not installed at {}: run ./test, which installs it",
            server.display()
        );
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            for _ in 0..3 {
                let port = free_port();
                let log = tempfile::tempfile().expect("a file for moto's stderr");
                let mut cmd = Command::new(&server);
                cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .stdout(Stdio::null())
                    .stderr(log.try_clone().unwrap());
                // SAFETY: prctl in the child before exec only asks the kernel to kill it with us.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let mut child = cmd.spawn().expect("moto starts");
                let deadline = Instant::now() + Duration::from_secs(120);
                loop {
                    if answers(port, "/moto-api/") {
                        tx.send(Ok(format!("http://127.0.0.1:{port}"))).unwrap();
                        let _ = child.wait();
                        return;
                    }
                    let exited = child.try_wait().ok().flatten();
                    if exited.is_some() || Instant::now() > deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        let mut said = String::new();
                        let mut log = log;
                        let _ = std::io::Seek::rewind(&mut log);
                        let _ = log.read_to_string(&mut said);
                        let tail: String =
                            said.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                        failures.push(format!("port {port}: {exited:?}: {tail}"));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            tx.send(Err(failures.join("; "))).unwrap();
        });
        match rx.recv().unwrap() {
            Ok(url) => url,
            Err(why) => panic!("moto did not answer: {why}"),
        }
    })
    .clone()
}

/// Runs `start` on a runtime of its own thread and hands back the first half of what it returns;
/// the second half (a server, a key file) stays alive, serving, for the rest of the process.
fn serve_for_good<T, Keep, F, Fut>(start: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = (T, Keep)>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let (shared, _keep) = start().await;
            tx.send(shared).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

pub struct Emulators {
    pub url: String,
    pub admin_key_file: PathBuf,
    /// The Snowflake emulator's registry, to count what is in it.
    pub snowflake: Snowflake,
    /// Its fault layer and journal of mutating calls.
    pub faults: local_cloud::Faults,
    pub journal: local_cloud::Journal,
}

/// The Confluent and Snowflake emulators on one loopback port, shared by the test process.
pub fn emulators() -> &'static Emulators {
    static EMULATORS: OnceLock<Emulators> = OnceLock::new();
    EMULATORS.get_or_init(|| {
        serve_for_good(|| async {
            let own = OwnEmulators::fresh().await;
            let shared = Emulators {
                url: own.cloud.url(),
                admin_key_file: own.admin_key_file.path().to_path_buf(),
                snowflake: own.snowflake.clone(),
                faults: own.cloud.faults.clone(),
                journal: own.cloud.journal.clone(),
            };
            (shared, own)
        })
    })
}

/// A local-cloud of a test's own, for other delays or faults than the shared one's: the
/// Confluent and Snowflake emulators reaching moto as the customer's account.
pub struct OwnEmulators {
    pub cloud: LocalCloud,
    pub admin_key_file: tempfile::NamedTempFile,
    /// The same key, for a test that logs in as the admin without the binary.
    pub admin_pem: SecretString,
    /// The Snowflake emulator's registry, to count what is in it.
    pub snowflake: Snowflake,
}

/// How long the Confluent emulator takes to provision, propagate and delete, unless a test is
/// about it: long enough that the tool must wait, short enough for a whole stack in seconds.
pub fn delays() -> Delays {
    Delays::uniform(Duration::from_millis(100))
}

impl OwnEmulators {
    /// With the usual delays and no faults.
    pub async fn fresh() -> OwnEmulators {
        OwnEmulators::start(delays(), FaultConfig::default()).await
    }

    pub async fn start(delays: Delays, faults: FaultConfig) -> OwnEmulators {
        OwnEmulators::serve(delays, faults, true).await
    }

    /// With `customer_aws`, Tableflow and Snowflake check roles and Glue in moto, as in the
    /// customer's account; without it they trust any role, for a test that stands in for AWS.
    pub async fn serve(delays: Delays, faults: FaultConfig, customer_aws: bool) -> OwnEmulators {
        let admin = kickstart::snowflake::KeyPair::generate().unwrap();
        let admin_key_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(admin_key_file.path(), admin.private_pem.expose_secret()).unwrap();
        let mut snowflake = Snowflake::new(SnowflakeConfig {
            account: SNOWFLAKE_ACCOUNT.into(),
            admin_user: "ADMIN".into(),
            admin_public_key: admin.public_body.clone(),
            iam_user_arn: SNOWFLAKE_IAM_USER.into(),
        });
        let mut confluent = ConfluentConfig::new(CONFLUENT_KEY, CONFLUENT_SECRET, delays);
        if customer_aws {
            // Tableflow and Snowflake reach the customer's account directly, never through the
            // tool's proxy.
            let moto = tokio::task::spawn_blocking(moto).await.unwrap();
            snowflake = snowflake.with_customer_aws(&moto);
            confluent = confluent.with_customer_aws(&moto);
        }
        let services = confluent::router(confluent).merge(snowflake::router(snowflake.clone()));
        let addr = "127.0.0.1:0".parse().unwrap();
        let cloud = LocalCloud::start(addr, faults, services).await.unwrap();
        OwnEmulators {
            cloud,
            admin_key_file,
            admin_pem: admin.private_pem,
            snowflake,
        }
    }

    /// The variables that point the binary at these emulators instead of the shared ones.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONFLUENT_CLOUD_ENDPOINT", self.cloud.url()),
            ("SNOWFLAKE_ENDPOINT", self.cloud.url()),
            (
                "SNOWFLAKE_PRIVATE_KEY_FILE",
                self.admin_key_file.path().display().to_string(),
            ),
        ]
    }
}

/// moto behind local-cloud's proxy, whose fault layer can hold the k-th mutating AWS call.
pub struct MotoProxy {
    pub url: String,
    pub faults: local_cloud::Faults,
    pub journal: local_cloud::Journal,
}

pub fn moto_proxy() -> &'static MotoProxy {
    static PROXY: OnceLock<MotoProxy> = OnceLock::new();
    PROXY.get_or_init(|| {
        let moto = moto();
        serve_for_good(move || async move {
            let addr = "127.0.0.1:0".parse().unwrap();
            let router = local_cloud::aws_proxy::router(&moto);
            let proxy = LocalCloud::start(addr, FaultConfig::default(), router)
                .await
                .unwrap();
            let shared = MotoProxy {
                url: proxy.url(),
                faults: proxy.faults.clone(),
                journal: proxy.journal.clone(),
            };
            (shared, proxy)
        })
    })
}

/// An AWS config with a profile `dev` (and a default) whose static keys moto accepts.
pub fn aws_files() -> &'static (PathBuf, PathBuf) {
    static FILES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let config = dir.join("config");
        let credentials = dir.join("credentials");
        std::fs::write(&config, "[default]\nregion = us-east-1\n\n[profile dev]\nregion = us-east-1\n").unwrap();
        std::fs::write(
            &credentials,
            "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n[dev]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
        )
        .unwrap();
        (config, credentials)
    })
}

/// The environment that points the binary at the stand-ins.
pub fn stand_in_env() -> Vec<(&'static str, String)> {
    let e = emulators();
    let (config, credentials) = aws_files();
    vec![
        ("CONFLUENT_CLOUD_ENDPOINT", e.url.clone()),
        ("SNOWFLAKE_ENDPOINT", e.url.clone()),
        ("SNOWFLAKE_ACCOUNT", SNOWFLAKE_ACCOUNT.into()),
        ("SNOWFLAKE_USER", "ADMIN".into()),
        (
            "SNOWFLAKE_PRIVATE_KEY_FILE",
            e.admin_key_file.display().to_string(),
        ),
        ("AWS_ENDPOINT_URL", moto()),
        ("AWS_CONFIG_FILE", config.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            credentials.display().to_string(),
        ),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// The region the stand-ins' AWS profile and environment name.
pub const REGION: &str = "us-east-1";

/// The SDK configuration a test reads moto with (what the tool made there).
pub async fn moto_sdk() -> aws_config::SdkConfig {
    moto_sdk_in(REGION).await
}

/// The same, for what a stack in another region made there.
pub async fn moto_sdk_in(region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto())
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

/// An S3 client on moto, which needs path-style addressing.
pub async fn moto_s3() -> aws_sdk_s3::Client {
    let config = moto_sdk().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}
