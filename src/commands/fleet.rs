//! A place many stacks' states share (a local folder, an S3 prefix): which stacks it records,
//! and each one's own backend, for `list` and `gc`.

use crate::aws;
use crate::error::Error;
use crate::settings::Aws as AwsSettings;
use crate::state::{self, FileStore, StateArg, StateDoc, StateError};

use super::backend::Backend;

pub struct Fleet {
    place: StateArg,
    /// Loaded once for the whole place, not per stack.
    s3: Option<aws_config::SdkConfig>,
}

impl Fleet {
    pub async fn open(place: &StateArg, aws_settings: &AwsSettings) -> Result<Fleet, Error> {
        let s3 = match place {
            StateArg::S3Prefix { .. } => Some(
                aws::load(
                    aws_settings.profile.as_deref(),
                    aws_settings.region.as_deref(),
                )
                .await
                .map_err(|e| Error::Preflight(e.to_string()))?,
            ),
            _ => None,
        };
        Ok(Fleet {
            place: place.clone(),
            s3,
        })
    }

    pub fn place(&self) -> &StateArg {
        &self.place
    }

    /// The place as users wrote it.
    pub fn shown(&self) -> String {
        self.place.to_string()
    }

    /// The stacks recorded here, sorted by name.
    pub async fn stacks(&self) -> Result<Vec<String>, StateError> {
        match (&self.place, &self.s3) {
            (StateArg::S3Prefix { bucket, prefix }, Some(config)) => {
                aws::stacks_under(config, bucket, prefix).await
            }
            (StateArg::Folder(dir), _) => {
                state::location::stacks_in_folder(dir).map_err(|source| StateError::Read {
                    path: self.shown(),
                    source,
                })
            }
            // `list` and `gc` take only shared places (their parser says so).
            _ => Ok(Vec::new()),
        }
    }

    /// The stack's own state, as `--stack-name NAME --state <this place>` finds it.
    pub fn backend(&self, stack: &str) -> Backend {
        match (self.place.resolve(stack), &self.s3) {
            (state::Location::S3 { bucket, key }, Some(config)) => {
                Backend::S3(aws::S3Store::new(config, &bucket, &key))
            }
            (state::Location::S3 { .. }, None) => {
                unreachable!("an S3 place has its SDK configuration loaded when opened")
            }
            (state::Location::File(path), _) => Backend::File(FileStore::new(path)),
        }
    }

    /// The stack's state now; none once it has been removed.
    pub async fn read(&self, stack: &str) -> Result<Option<StateDoc>, StateError> {
        self.backend(stack).load(stack).await
    }
}
