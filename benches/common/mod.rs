//! What the benchmarks share: moto, and local-cloud's emulators and AWS proxy with every call
//! 50-150 ms late and Confluent's asynchronous resources taking seconds, started once; and a way
//! to run the release binary against them and measure it.

#![allow(dead_code)] // each benchmark uses its own part

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::snowflake::{self, Snowflake, SnowflakeConfig};
use local_cloud::{FaultConfig, LocalCloud, aws_proxy};
use secrecy::ExposeSecret as _;

pub const KEY: &str = "BENCHKEY";
pub const SECRET: &str = "bench-secret";
pub const ACCOUNT: &str = "LOCALORG-BENCH";

pub fn latency() -> FaultConfig {
    FaultConfig {
        min_latency_ms: 50,
        max_latency_ms: 150,
        ..FaultConfig::default()
    }
}

/// Seconds where the real service takes minutes, in the same proportions (propagation and
/// deletes included).
pub fn delays() -> Delays {
    let s = Duration::from_secs;
    Delays {
        cluster: s(5),
        schema_registry: s(2),
        compute_pool: s(4),
        connector: s(6),
        statement: s(3),
        tableflow: s(4),
        catalog: s(3),
        publish: s(2),
        // Keys and bindings take seconds to be honoured; deletes take seconds to finish.
        key_propagation: (s(1), s(3)),
        binding_propagation: (s(1), s(3)),
        deleting: s(2),
    }
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// moto on a free port, killed with this process.
pub fn start_moto() -> String {
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    assert!(
        server.exists(),
        "run ./test or ./sandbox first: it installs moto into .venv"
    );
    let port = free_port();
    let mut cmd = Command::new(server);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: prctl in the child before exec only asks the kernel to kill it with us.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    std::mem::forget(cmd.spawn().expect("moto starts"));
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return url;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto did not start");
}

pub struct Stand {
    pub emulators: LocalCloud,
    pub proxy: LocalCloud,
    pub env: Vec<(String, String)>,
    _files: tempfile::TempDir,
}

impl Stand {
    pub async fn start() -> Stand {
        Stand::with(latency()).await
    }

    /// With these faults (a rate limit, say) on top of the latency.
    pub async fn with(faults: FaultConfig) -> Stand {
        let moto = start_moto();
        let files = tempfile::tempdir().unwrap();
        let admin = kickstart::snowflake::KeyPair::generate().unwrap();
        let key_file = files.path().join("admin.p8");
        std::fs::write(&key_file, admin.private_pem.expose_secret()).unwrap();
        let services =
            confluent::router(ConfluentConfig::new(KEY, SECRET, delays()).with_customer_aws(&moto))
                .merge(snowflake::router(
                    Snowflake::new(SnowflakeConfig {
                        account: ACCOUNT.into(),
                        admin_user: "ADMIN".into(),
                        admin_public_key: admin.public_body.clone(),
                        iam_user_arn: "arn:aws:iam::999999999999:user/snowflake".into(),
                    })
                    .with_customer_aws(&moto),
                ));
        let addr = "127.0.0.1:0".parse().unwrap();
        let emulators = LocalCloud::start(addr, faults.clone(), services)
            .await
            .unwrap();
        let proxy = LocalCloud::start(addr, faults, aws_proxy::router(&moto))
            .await
            .unwrap();
        let config = files.path().join("config");
        let credentials = files.path().join("credentials");
        std::fs::write(&config, "[profile dev]\nregion = us-east-1\n").unwrap();
        std::fs::write(
            &credentials,
            "[dev]\naws_access_key_id = bench\naws_secret_access_key = bench\n",
        )
        .unwrap();
        let path = |p: &PathBuf| p.display().to_string();
        let env = vec![
            ("CONFLUENT_CLOUD_ENDPOINT", emulators.url()),
            ("CONFLUENT_CLOUD_API_KEY", KEY.into()),
            ("CONFLUENT_CLOUD_API_SECRET", SECRET.into()),
            ("SNOWFLAKE_ENDPOINT", emulators.url()),
            ("SNOWFLAKE_ACCOUNT", ACCOUNT.into()),
            ("SNOWFLAKE_USER", "ADMIN".into()),
            ("SNOWFLAKE_PRIVATE_KEY_FILE", path(&key_file)),
            ("SNOWFLAKE_WAREHOUSE", "BENCH_WH".into()),
            ("AWS_ENDPOINT_URL", proxy.url()),
            ("AWS_CONFIG_FILE", path(&config)),
            ("AWS_SHARED_CREDENTIALS_FILE", path(&credentials)),
            ("AWS_PROFILE", "dev".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ];
        Stand {
            emulators,
            proxy,
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            _files: files,
        }
    }

    /// Calls of any kind, and mutating calls, the stand-ins have seen so far.
    pub fn calls(&self) -> (u64, usize) {
        let all = self.emulators.faults.all() + self.proxy.faults.all();
        let mutating = self.emulators.journal.calls().len() + self.proxy.journal.calls().len();
        (all, mutating)
    }
}

pub struct Run {
    pub wall: Duration,
    pub max_rss_kib: i64,
    pub stdout: String,
}

/// Runs the release binary in `dir`. The peak RSS is that of the largest child waited for so
/// far, so it is the run's own for the first run of this process.
pub fn run(stand: &Stand, dir: &Path, args: &[&str]) -> Run {
    let out_path = dir.join("stdout.ndjson");
    let out = std::fs::File::create(&out_path).unwrap();
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_kickstart"))
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .envs(stand.env.iter().map(|(k, v)| (k, v)))
        .stdout(out)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let wall = started.elapsed();
    // SAFETY: getrusage fills a struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap();
    assert!(status.success(), "kickstart {args:?} failed:\n{stdout}");
    Run {
        wall,
        max_rss_kib: usage.ru_maxrss,
        stdout,
    }
}
