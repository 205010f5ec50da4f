//! What `--state` names: one stack's document (a file, an S3 object), or a place many stacks
//! share (a local folder, an S3 prefix) where each stack's state is `<place><stack name>.json`,
//! so that CI jobs pick their stack by `--stack-name` alone.

use std::path::{Path, PathBuf};

use super::Location;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateArg {
    /// One document, as named.
    One(Location),
    /// A local folder holding one document per stack.
    Folder(PathBuf),
    /// `s3://bucket/prefix/`: the prefix ends in `/`, or is empty for the bucket's top.
    S3Prefix { bucket: String, prefix: String },
}

impl StateArg {
    /// Reads `--state`: a trailing `/` (or an existing directory) names a shared place.
    pub fn parse(s: &str) -> Result<StateArg, String> {
        if let Some(rest) = s.strip_prefix("s3://") {
            return match rest.split_once('/') {
                Some((bucket, prefix))
                    if !bucket.is_empty() && (prefix.is_empty() || prefix.ends_with('/')) =>
                {
                    Ok(StateArg::S3Prefix {
                        bucket: bucket.into(),
                        prefix: prefix.into(),
                    })
                }
                Some((bucket, key)) if !bucket.is_empty() => Ok(StateArg::One(Location::S3 {
                    bucket: bucket.into(),
                    key: key.into(),
                })),
                _ => Err("give the state in S3 as s3://bucket/key or a prefix s3://bucket/prefix/, e.g. s3://ci-state/kickstart/".into()),
            };
        }
        if s.trim().is_empty() {
            return Err("give a file path (kickstart.state.json), a folder (states/) or s3://bucket/prefix/".into());
        }
        let path = PathBuf::from(s);
        if s.ends_with('/') || path.is_dir() {
            Ok(StateArg::Folder(path))
        } else {
            Ok(StateArg::One(Location::File(path)))
        }
    }

    /// Where this stack's document lives.
    pub fn resolve(&self, stack: &str) -> Location {
        match self {
            StateArg::One(location) => location.clone(),
            StateArg::Folder(dir) => Location::File(dir.join(format!("{stack}.json"))),
            StateArg::S3Prefix { bucket, prefix } => Location::S3 {
                bucket: bucket.clone(),
                key: format!("{prefix}{stack}.json"),
            },
        }
    }

    /// The shared place a stack's marks record, so that `gc --orphans` of the same place finds
    /// it: a folder made absolute (runs from other directories name it differently), an S3
    /// prefix as written. None for one document.
    pub fn place(&self) -> Option<String> {
        match self {
            StateArg::One(_) => None,
            StateArg::Folder(dir) => {
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                Some(StateArg::Folder(dir).to_string())
            }
            StateArg::S3Prefix { .. } => Some(self.to_string()),
        }
    }
}

impl std::fmt::Display for StateArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateArg::One(location) => write!(f, "{location}"),
            StateArg::Folder(dir) => {
                let dir = dir.display().to_string();
                match dir.ends_with('/') {
                    true => write!(f, "{dir}"),
                    false => write!(f, "{dir}/"),
                }
            }
            StateArg::S3Prefix { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// The stack a document's name in a shared place stands for: `<stack>.json`, never a lock or a
/// temporary file beside it.
pub fn stack_of(file_name: &str) -> Option<&str> {
    let stack = file_name.strip_suffix(".json")?;
    (!stack.is_empty() && !stack.contains(".tmp-") && !stack.contains('/')).then_some(stack)
}

/// The stacks recorded in a local folder, sorted; none when the folder does not exist.
pub fn stacks_in_folder(dir: &Path) -> std::io::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut stacks = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        if let Some(stack) = stack_of(&entry.file_name().to_string_lossy()) {
            stacks.push(stack.to_string());
        }
    }
    stacks.sort();
    Ok(stacks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_slash_or_a_directory_names_a_shared_place() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().display().to_string();
        assert_eq!(
            StateArg::parse("k.json").unwrap(),
            StateArg::One(Location::File("k.json".into()))
        );
        let folder = StateArg::parse("states/").unwrap();
        assert_eq!(
            folder.resolve("a_b"),
            Location::File("states/a_b.json".into())
        );
        // Absolute, so that a gc run from another directory names the same place.
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(folder.place(), Some(format!("{}/states/", cwd.display())));
        let existing = StateArg::parse(&existing).unwrap();
        assert_eq!(
            existing.resolve("s1"),
            Location::File(dir.path().join("s1.json"))
        );
        let prefix = StateArg::parse("s3://b/ci/k/").unwrap();
        assert_eq!(
            prefix.resolve("s1"),
            Location::S3 {
                bucket: "b".into(),
                key: "ci/k/s1.json".into()
            }
        );
        assert_eq!(prefix.place().as_deref(), Some("s3://b/ci/k/"));
        assert_eq!(
            StateArg::parse("s3://b/")
                .unwrap()
                .resolve("s1")
                .to_string(),
            "s3://b/s1.json"
        );
        assert_eq!(StateArg::parse("s3://b/k.json").unwrap().place(), None);
        assert!(StateArg::parse("s3://").is_err());
        assert!(StateArg::parse("s3:///x/").is_err());
        assert!(StateArg::parse(" ").is_err());
    }

    #[test]
    fn a_folder_lists_its_documents_not_locks_or_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.json",
            "a.json",
            "a.json.lock",
            "a.json.tmp-12",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.json")).unwrap();
        assert_eq!(stacks_in_folder(dir.path()).unwrap(), ["a", "b"]);
        assert!(
            stacks_in_folder(&dir.path().join("none"))
                .unwrap()
                .is_empty()
        );
    }
}
