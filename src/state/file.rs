//! The state as a local file: written whole to a temporary file, synced, then renamed over the
//! old one, so a reader (or a run after a crash) sees the old document or the new, never half.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lock::StateLock;
use super::{StateDoc, StateError};

#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// `None` when there is no state yet.
    pub fn load(&self, stack: &str) -> Result<Option<StateDoc>, StateError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => StateDoc::from_json(&self.shown(), &text, stack).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StateError::Read {
                path: self.shown(),
                source,
            }),
        }
    }

    pub fn save(&self, doc: &StateDoc) -> Result<(), StateError> {
        let write_err = |source| StateError::Write {
            path: self.shown(),
            source,
        };
        let mut text = serde_json::to_vec_pretty(doc).expect("a state document always serializes");
        text.push(b'\n');
        let tmp = self.temp_path();
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(write_err)?;
        file.write_all(&text).map_err(write_err)?;
        file.sync_all().map_err(write_err)?;
        drop(file);
        fs::rename(&tmp, &self.path).map_err(write_err)?;
        // The rename itself must reach the disk too, or a power cut could bring back the old file.
        if let Ok(dir) = File::open(self.dir()) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Removes the state once nothing is recorded in it any more.
    pub fn remove(&self) -> Result<(), StateError> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StateError::Write {
                path: self.shown(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    pub async fn lock(&self, command: &str, timeout: Duration) -> Result<StateLock, StateError> {
        StateLock::acquire(&self.lock_path(), &self.shown(), command, timeout).await
    }

    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    fn temp_path(&self) -> PathBuf {
        with_suffix(&self.path, &format!(".tmp-{}", std::process::id()))
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;
    use crate::state::Record;
    use crate::state::Status;

    #[test]
    fn round_trips_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("k.state.json"));
        assert!(store.load("s").unwrap().is_none());
        let mut doc = StateDoc::new("s");
        doc.put("a", Record::new("env-1").with("name", "n"), Status::Ready)
            .unwrap();
        store.save(&doc).unwrap();
        assert_eq!(store.load("s").unwrap().unwrap(), doc);
        let mode = fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(!store.temp_path().exists());
        store.remove().unwrap();
        assert!(store.load("s").unwrap().is_none());
    }
}
