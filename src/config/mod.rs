//! `kickstart.toml`: the stack as a file users edit, read and checked before anything is touched.

mod allowed;
mod error;
mod locate;
pub mod model;
pub mod names;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, Place};
pub use model::Config;

/// The stack deploy.sh builds, as `kickstart init` writes it.
pub const DEFAULT: &str = include_str!("default.toml");

/// How errors name the embedded default, which has no path.
pub const DEFAULT_NAME: &str = "<default>";

/// The file read when neither --config nor KICKSTART_CONFIG names one, if it exists.
pub const FILE_NAME: &str = "kickstart.toml";

/// A stack file, read and checked.
#[derive(Clone, Debug)]
pub struct Stackfile {
    /// None for the embedded default.
    pub path: Option<PathBuf>,
    pub config: Config,
    /// Each statement's SQL by statement key, `sql_file`s read relative to the file's directory.
    pub sql: BTreeMap<String, String>,
}

impl Stackfile {
    /// The file as errors and messages name it.
    pub fn shown(&self) -> String {
        shown(self.path.as_deref())
    }
}

/// The file to read: the one named (by --config or KICKSTART_CONFIG), else `./kickstart.toml`
/// when it exists, else none (the embedded default).
pub fn choose(named: Option<PathBuf>) -> Option<PathBuf> {
    named.or_else(|| {
        let here = PathBuf::from(FILE_NAME);
        here.is_file().then_some(here)
    })
}

/// Reads and checks the file at `path`, or the embedded default.
pub fn load(path: Option<&Path>) -> Result<Stackfile, ConfigError> {
    let name = shown(path);
    let text = match path {
        None => DEFAULT.to_string(),
        Some(p) => std::fs::read_to_string(p).map_err(|e| ConfigError::Unreadable {
            path: name.clone(),
            reason: e.kind().to_string(),
        })?,
    };
    let dir = match path.and_then(Path::parent) {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (config, sql) = parse(&name, &text, &dir)?;
    Ok(Stackfile {
        path: path.map(Path::to_path_buf),
        config,
        sql,
    })
}

/// Parses and checks `text`, named `name` in errors; `sql_file`s are read from `dir`.
pub fn parse(
    name: &str,
    text: &str,
    dir: &Path,
) -> Result<(Config, BTreeMap<String, String>), ConfigError> {
    let config: Config =
        toml::from_str(text).map_err(|e| ConfigError::from_toml(name, text, &e))?;
    let sql = validate::Checker::new(name, text).check(&config, dir)?;
    Ok((config, sql))
}

fn shown(path: Option<&Path>) -> String {
    path.map_or_else(|| DEFAULT_NAME.to_string(), |p| p.display().to_string())
}

#[cfg(test)]
mod tests;

impl Stackfile {
    /// The embedded default, which is checked by the tests to load.
    pub fn default_stack() -> Stackfile {
        load(None).expect("the embedded default stack file is valid")
    }
}
