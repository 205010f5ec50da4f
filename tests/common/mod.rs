//! One harness for every test that runs the binary: a clean environment in a fresh directory,
//! and a builder that checks exit status, stdout and stderr together, with ids and times redacted.

#![allow(dead_code)]

pub mod stand_in;

use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::OnceLock;

use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::{FaultConfig, LocalCloud};
use regex::Regex;

/// The Confluent emulator every run of this test process talks to, accepting FULL's key.
pub fn confluent_endpoint() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let delays = Delays::uniform(std::time::Duration::from_millis(100));
                let config = ConfluentConfig::new("CKEY123", "cloud-secret-do-not-print", delays);
                let addr = "127.0.0.1:0".parse().unwrap();
                let cloud =
                    LocalCloud::start(addr, FaultConfig::default(), confluent::router(config))
                        .await
                        .unwrap();
                tx.send(cloud.url()).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    })
    .clone()
}

/// Variables a developer's shell may carry that would change what the tool does.
const INHERITED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "CONFLUENT_CLOUD_API_KEY",
    "CONFLUENT_CLOUD_API_SECRET",
    "CONFLUENT_CLOUD_ENDPOINT",
    "SNOWFLAKE_ACCOUNT",
    "SNOWFLAKE_USER",
    "SNOWFLAKE_PRIVATE_KEY_FILE",
    "SNOWFLAKE_WAREHOUSE",
    "SNOWFLAKE_ENDPOINT",
    "SNOWFLAKE_ADMIN_SECRET",
    "KICKSTART_STACK_NAME",
    "KICKSTART_STATE",
    "KICKSTART_CONCURRENCY",
    "KICKSTART_DAY_COUNT",
    "KICKSTART_KEYS_TO_RETAIN",
    "RUST_LOG",
];

/// The flags a full `create` needs, in the deploy.sh `--flag=value` form.
pub const FULL: &[&str] = &[
    "--profile=dev",
    "--confluent-api-key=CKEY123",
    "--confluent-api-secret=cloud-secret-do-not-print",
    "--snowflake-warehouse=COMPUTE_WH",
    "--day-count=30",
    "--number-of-api-keys-to-retain=2",
];

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    status: Option<i32>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    stderr_lines: Option<usize>,
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().unwrap(),
            args: Vec::new(),
            env: Vec::new(),
            status: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stderr_lines: None,
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }

    /// stdout, filtered, must contain this.
    pub fn stdout_has(mut self, text: &str) -> Self {
        self.stdout.push(text.into());
        self
    }

    /// stderr, filtered, must contain this.
    pub fn stderr_has(mut self, text: &str) -> Self {
        self.stderr.push(text.into());
        self
    }

    pub fn stderr_lines(mut self, n: usize) -> Self {
        self.stderr_lines = Some(n);
        self
    }

    /// Runs the binary and checks every expectation, showing all of the output on failure.
    pub fn run(self) -> (Run, tempfile::TempDir) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kickstart"));
        cmd.current_dir(self.dir.path()).args(&self.args);
        for var in INHERITED {
            cmd.env_remove(var);
        }
        // No run ever reaches the real Confluent Cloud: the emulator stands in unless a test
        // names an endpoint itself.
        let named = |k: &str| {
            self.env.iter().any(|(n, _)| n == k)
                || self
                    .args
                    .iter()
                    .any(|a| a.starts_with("--confluent-endpoint"))
        };
        if !named("CONFLUENT_CLOUD_ENDPOINT") {
            cmd.env("CONFLUENT_CLOUD_ENDPOINT", confluent_endpoint());
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let run = Run {
            status: out.status.code().unwrap_or(-1),
            stdout: filter(&String::from_utf8_lossy(&out.stdout)),
            stderr: filter(&String::from_utf8_lossy(&out.stderr)),
        };
        let shown = format!(
            "kickstart {}\n--- status {}\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            run.status,
            run.stdout,
            run.stderr
        );
        if let Some(code) = self.status {
            assert_eq!(run.status, code, "{shown}");
        }
        for text in &self.stdout {
            assert!(run.stdout.contains(text), "stdout lacks {text:?}\n{shown}");
        }
        for text in &self.stderr {
            assert!(run.stderr.contains(text), "stderr lacks {text:?}\n{shown}");
        }
        if let Some(n) = self.stderr_lines {
            assert_eq!(run.stderr.lines().count(), n, "{shown}");
        }
        (run, self.dir)
    }
}

/// Replaces what changes from run to run (times, pids, hosts' clocks) with fixed words.
pub fn filter(text: &str) -> String {
    let rules = [
        (r"\[\s*\d+\.\d\]", "[TIME]"),
        (r"\d+\.\ds\b", "[T]s"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
        (r"pid \d+", "pid [PID]"),
    ];
    let mut text = text.to_string();
    for (pattern, with) in rules {
        text = Regex::new(pattern)
            .unwrap()
            .replace_all(&text, with)
            .into_owned();
    }
    text
}
