//! The whole tool, measured: the release `kickstart` creates the stack against moto and
//! local-cloud with every stand-in adding 50-150 ms to each call (AWS too, through the proxy in
//! front of moto) and Confluent's asynchronous resources taking seconds to provision. Prints
//! figures; it asserts only that the runs succeed.
//!
//!     cargo bench --bench full_create
//!
//! Needs moto in `.venv` (`./test` or `./sandbox` installs it).

use std::collections::HashMap;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kickstart::stack::{self, DEFAULT_STACK, Names, NotBuilt};
use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::snowflake::{self, Snowflake, SnowflakeConfig};
use local_cloud::{FaultConfig, LocalCloud, aws_proxy};
use secrecy::ExposeSecret as _;

const KEY: &str = "BENCHKEY";
const SECRET: &str = "bench-secret";
const ACCOUNT: &str = "LOCALORG-BENCH";

fn latency() -> FaultConfig {
    FaultConfig {
        min_latency_ms: 50,
        max_latency_ms: 150,
        ..FaultConfig::default()
    }
}

/// Seconds where the real service takes minutes, in the same proportions (propagation and
/// deletes included).
fn delays() -> Delays {
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

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// moto on a free port, killed with this process.
fn start_moto() -> String {
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

struct Stand {
    emulators: LocalCloud,
    proxy: LocalCloud,
    env: Vec<(String, String)>,
    _files: tempfile::TempDir,
}

impl Stand {
    async fn start() -> Stand {
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
        let emulators = LocalCloud::start(addr, latency(), services).await.unwrap();
        let proxy = LocalCloud::start(addr, latency(), aws_proxy::router(&moto))
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
    fn calls(&self) -> (u64, usize) {
        let all = self.emulators.faults.all() + self.proxy.faults.all();
        let mutating = self.emulators.journal.calls().len() + self.proxy.journal.calls().len();
        (all, mutating)
    }
}

struct Run {
    wall: Duration,
    max_rss_kib: i64,
    stdout: String,
}

/// Runs the release binary in `dir`. The peak RSS is that of the largest child waited for so
/// far, so it is the run's own for the first run of this process.
fn run(stand: &Stand, dir: &Path, args: &[&str]) -> Run {
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

/// The longest chain of node times through the graph, from the run's own `finish` events.
fn critical_path(stdout: &str) -> (Duration, Duration) {
    let mut took = HashMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["event"] == "finish" {
            let ms = v["elapsed_ms"].as_u64().unwrap();
            took.insert(
                v["node"].as_str().unwrap().to_string(),
                Duration::from_millis(ms),
            );
        }
    }
    let graph = default_graph().unwrap();
    let of = |id: &str| took.get(id).copied().unwrap_or_default();
    let work = graph.nodes().iter().map(|n| of(&n.id)).sum();
    (graph.critical_path(|n| of(&n.id)), work)
}

/// The longest readiness deadline of any node.
fn graph_deadlines() -> Duration {
    let graph = default_graph().unwrap();
    graph.nodes().iter().map(|n| n.deadline).max().unwrap()
}

/// The default stack's graph, without the clouds.
fn default_graph() -> Result<kickstart::engine::Graph, kickstart::engine::GraphError> {
    let (names, file) = (
        Names::new(DEFAULT_STACK),
        kickstart::config::Stackfile::default_stack(),
    );
    stack::graph(&stack::Stack::offline(&names, &file), &NotBuilt)
}

fn engine_ms(stdout: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "summary")
        .and_then(|v| v["elapsed_ms"].as_u64())
        .unwrap_or_default()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks which benchmarks exist
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stand = runtime.block_on(Stand::start());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let json = ["--output=json"];

    let dir = tempfile::tempdir().unwrap();
    let create = run(&stand, dir.path(), &[&["create"][..], &json].concat());
    let (critical, work) = critical_path(&create.stdout);
    // Retired nodes (what earlier versions made) are no resource of today's stack.
    let nodes = default_graph()
        .unwrap()
        .nodes()
        .iter()
        .filter(|n| !n.retired)
        .count();

    let before = stand.calls();
    let rerun = run(&stand, dir.path(), &[&["create"][..], &json].concat());
    let after = stand.calls();
    // What a CI drift check runs: a plan that reads every resource's live attributes.
    let plan = run(&stand, dir.path(), &[&["plan"][..], &json].concat());
    let planned = stand.calls();
    let delete = run(&stand, dir.path(), &[&["delete"][..], &json].concat());
    let (delete_critical, _) = critical_path(&delete.stdout);

    let serial_dir = tempfile::tempdir().unwrap();
    let serial = run(
        &stand,
        serial_dir.path(),
        &[&["create", "--concurrency=1"][..], &json].concat(),
    );
    run(&stand, serial_dir.path(), &["delete"]);

    let mut help: Vec<Duration> = (0..21)
        .map(|_| run(&stand, dir.path(), &["--help"]).wall)
        .collect();
    help.sort();
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_kickstart"))
        .unwrap()
        .len();

    println!("full create against the stand-ins: 50-150 ms per call, provisioning in seconds");
    println!("nodes                                 {nodes}");
    println!(
        "create wall time (process)            {:>8.0} ms",
        ms(create.wall)
    );
    println!(
        "  of which the engine                 {:>8} ms",
        engine_ms(&create.stdout)
    );
    println!(
        "critical path (measured node times)   {:>8.0} ms",
        ms(critical)
    );
    println!(
        "ratio wall / critical path            {:>8.3}    (goal <= 1.10)",
        ms(create.wall) / ms(critical)
    );
    println!(
        "create at --concurrency 1             {:>8.0} ms",
        ms(serial.wall)
    );
    println!(
        "speed-up 8 vs 1                       {:>8.2}x   (goal >= 2.5; bound: work / critical path = {:.2}x)",
        ms(serial.wall) / ms(create.wall),
        ms(work) / ms(critical)
    );
    println!(
        "no-change re-run                      {:>8.0} ms  (goal < 3000)",
        ms(rerun.wall)
    );
    println!(
        "  calls made                          {:>8}     ({:.2} per node, goal <= 1; {} mutating)",
        after.0 - before.0,
        (after.0 - before.0) as f64 / nodes as f64,
        after.1 - before.1
    );
    println!(
        "no-change plan, drift included        {:>8.0} ms  (goal < 1500)",
        ms(plan.wall)
    );
    println!(
        "  calls made                          {:>8}     ({:.2} per node, goal <= 1; {} mutating)",
        planned.0 - after.0,
        (planned.0 - after.0) as f64 / nodes as f64,
        planned.1 - after.1
    );
    println!(
        "delete wall time                      {:>8.0} ms",
        ms(delete.wall)
    );
    println!(
        "delete critical path (measured)       {:>8.0} ms",
        ms(delete_critical)
    );
    println!(
        "ratio delete wall / critical path     {:>8.3}    (goal <= 1.10)",
        ms(delete.wall) / ms(delete_critical)
    );
    let poll = kickstart::engine::PollPolicy::default();
    let deadlines = graph_deadlines();
    println!(
        "polls per readiness or delete wait    {:>8}    (at most, at the longest deadline, {} min)",
        poll.max_polls(deadlines),
        deadlines.as_secs() / 60
    );
    println!(
        "tries per call while a key propagates {:>8}    (at most)",
        kickstart::confluent::PROPAGATION_ATTEMPTS
    );
    println!(
        "peak RSS of the create                {:>8.1} MiB",
        create.max_rss_kib as f64 / 1024.0
    );
    println!(
        "kickstart --help (median of 21)       {:>8.1} ms",
        ms(help[help.len() / 2])
    );
    println!(
        "release binary size                   {:>8.1} MiB",
        size as f64 / (1024.0 * 1024.0)
    );
}
