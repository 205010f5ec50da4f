//! `kickstart.toml`: the stack as a file users edit, read and checked before anything is touched.

pub mod model;

pub use model::Config;

/// The stack deploy.sh builds, as `kickstart init` writes it.
pub const DEFAULT: &str = include_str!("default.toml");

/// A loaded, checked stack file. (The lead's stand-in until the loader lands.)
#[derive(Clone, Debug)]
pub struct Stackfile {
    pub path: Option<std::path::PathBuf>,
    pub config: Config,
    /// Each statement's SQL, by statement key.
    pub sql: std::collections::BTreeMap<String, String>,
}

impl Stackfile {
    /// The embedded default.
    pub fn default_stack() -> Stackfile {
        let config: Config = toml::from_str(DEFAULT).expect("the embedded default parses");
        let sql = config
            .statements
            .iter()
            .filter_map(|(k, s)| Some((k.clone(), s.sql.as_ref()?.get_ref().clone())))
            .collect();
        Stackfile {
            path: None,
            config,
            sql,
        }
    }
}
