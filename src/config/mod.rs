//! `kickstart.toml`: the stack as a file users edit, read and checked before anything is touched.

pub mod model;

pub use model::Config;

/// The stack deploy.sh builds, as `kickstart init` writes it.
pub const DEFAULT: &str = include_str!("default.toml");
