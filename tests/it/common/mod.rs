//! One harness for every test that runs the binary: a clean environment in a fresh directory,
//! and a builder that checks exit status, stdout and stderr together, with ids and times redacted.
//! Tests that drive the engine without the binary share one [`context::Context`] instead.

pub mod capture;
pub mod census;
pub mod clouds;
pub mod context;
pub mod stand_in;

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

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
    "KICKSTART_CONFIG",
    "KICKSTART_STACK_NAME",
    "KICKSTART_STATE",
    "KICKSTART_CONCURRENCY",
    "KICKSTART_DAY_COUNT",
    "KICKSTART_KEYS_TO_RETAIN",
    "RUST_LOG",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
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
    bare: bool,
    cwd: Option<PathBuf>,
    without: Vec<String>,
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
            bare: false,
            cwd: None,
            without: Vec::new(),
        }
    }

    /// Runs in `dir` (another run's directory, to share its state) instead of a fresh one.
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// Leaves one variable of the stand-in environment out.
    pub fn without(mut self, var: &str) -> Self {
        self.without.push(var.to_string());
        self
    }

    /// No stand-in environment: the run sees only what the test gives it.
    pub fn bare(mut self) -> Self {
        self.bare = true;
        self
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

    /// Several variables at once, such as [`clouds::OwnEmulators::env`]; a later one wins.
    pub fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
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

    /// `command` on the whole stack (the [`FULL`] flags), in `dir` (another run's, to share its
    /// state) or a fresh directory, from an async test; it must succeed.
    pub async fn whole_stack(self, command: &str, dir: Option<&Path>) -> (Run, tempfile::TempDir) {
        let mut test = self.args([command]).args(FULL);
        if let Some(dir) = dir {
            test = test.in_dir(dir);
        }
        let done = format!("{command} done");
        test.status(0).stderr_has(&done).run_async().await
    }

    /// [`Test::run`] from an async test, on a thread that may block.
    pub async fn run_async(self) -> (Run, tempfile::TempDir) {
        tokio::task::spawn_blocking(move || self.run())
            .await
            .unwrap()
    }

    /// Runs the binary and checks every expectation, showing all of the output on failure.
    pub fn run(self) -> (Run, tempfile::TempDir) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kickstart"));
        cmd.current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()))
            .args(&self.args);
        for var in INHERITED {
            cmd.env_remove(var);
        }
        // A run that reaches the clouds reaches the stand-ins, never the real services.
        let reaches_clouds = matches!(
            self.args.first().map(String::as_str),
            Some("create" | "delete" | "plan" | "rotate" | "doctor" | "gc" | "list")
        ) || self.args.iter().any(|a| a == "--refresh");
        if reaches_clouds && !self.bare {
            for (k, v) in clouds::stand_in_env() {
                if !self.without.iter().any(|w| w == k) {
                    cmd.env(k, v);
                }
            }
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
