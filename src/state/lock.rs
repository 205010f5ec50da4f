//! One run at a time per state: a lock file beside the state, created exclusively, holding who
//! holds it. Released when the guard drops. A lock left by a dead process on this host is taken over.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::StateError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    pub host: String,
    pub started_at: Timestamp,
    pub command: String,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`kickstart {}` (pid {} on {}, since {})",
            self.command,
            self.pid,
            self.host,
            self.started_at
                .round(jiff::Unit::Second)
                .unwrap_or(self.started_at)
        )
    }
}

impl LockHolder {
    /// The holder this process would be.
    pub fn for_this_process(command: &str) -> Self {
        LockHolder {
            pid: std::process::id(),
            host: this_host(),
            started_at: Timestamp::now(),
            command: command.to_string(),
        }
    }

    /// Only a holder on this host can be known dead; one elsewhere is always taken as alive.
    fn is_dead(&self) -> bool {
        self.host == this_host() && !pid_alive(self.pid)
    }
}

/// Held while a run may write the state; dropping it removes the lock file.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
}

impl StateLock {
    pub async fn acquire(
        path: &Path,
        state: &str,
        command: &str,
        timeout: Duration,
    ) -> Result<StateLock, StateError> {
        let me = LockHolder::for_this_process(command);
        let give_up = tokio::time::Instant::now() + timeout;
        loop {
            match try_create(path, &me) {
                Ok(()) => {
                    return Ok(StateLock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(StateError::Write {
                        path: path.display().to_string(),
                        source,
                    });
                }
            }
            match read_holder(path) {
                // Gone between our attempt and the read: just try again.
                None if !path.exists() => continue,
                Some(holder) if holder.is_dead() => {
                    tracing::warn!("taking over a stale lock on {state} left by {holder}");
                    let _ = fs::remove_file(path);
                    continue;
                }
                holder => {
                    if tokio::time::Instant::now() >= give_up {
                        let holder = holder.unwrap_or_else(|| LockHolder {
                            pid: 0,
                            host: "an unknown host (the lock file is unreadable)".into(),
                            started_at: Timestamp::UNIX_EPOCH,
                            command: "?".into(),
                        });
                        return Err(StateError::Locked {
                            path: state.to_string(),
                            holder,
                        });
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn try_create(path: &Path, me: &LockHolder) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let text = serde_json::to_vec(me).expect("a lock holder always serializes");
    file.write_all(&text)?;
    file.sync_all()
}

fn read_holder(path: &Path) -> Option<LockHolder> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 checks existence only. EPERM means it exists but belongs to someone else.
    // SAFETY: kill with signal 0 sends nothing; it only reports whether the pid exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_is_refused_with_the_holders_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.lock");
        let first = StateLock::acquire(&path, "s", "create", Duration::ZERO)
            .await
            .unwrap();
        let err = StateLock::acquire(&path, "s", "delete", Duration::ZERO)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("kickstart create"), "{msg}");
        drop(first);
        assert!(!path.exists());
        StateLock::acquire(&path, "s", "delete", Duration::ZERO)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn waits_for_the_holder_within_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.lock");
        let first = StateLock::acquire(&path, "s", "create", Duration::ZERO)
            .await
            .unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            drop(first);
        });
        StateLock::acquire(&path, "s", "delete", Duration::from_secs(10))
            .await
            .unwrap();
        release.await.unwrap();
    }

    #[tokio::test]
    async fn takes_over_a_lock_left_by_a_dead_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.lock");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = LockHolder {
            pid: dead,
            ..LockHolder::for_this_process("create")
        };
        fs::write(&path, serde_json::to_vec(&stale).unwrap()).unwrap();
        let _lock = StateLock::acquire(&path, "s", "create", Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(read_holder(&path).unwrap().pid, std::process::id());
    }

    #[tokio::test]
    async fn a_live_holder_on_another_host_is_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.lock");
        let elsewhere = LockHolder {
            pid: 1,
            host: "ci-runner-7".into(),
            ..LockHolder::for_this_process("create")
        };
        fs::write(&path, serde_json::to_vec(&elsewhere).unwrap()).unwrap();
        let err = StateLock::acquire(&path, "s", "create", Duration::ZERO)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("ci-runner-7"), "{err}");
    }
}
