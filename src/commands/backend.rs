//! Where this run's state lives: a local file, or an object in S3; and the lock that keeps runs
//! apart, released when the run ends, however it ends.

use std::time::Duration;

use crate::aws::{self, S3Lock, S3Store};
use crate::engine::StateSink;
use crate::error::Error;
use crate::settings::Aws as AwsSettings;
use crate::state::{FileStore, Location, StateDoc, StateError, StateLock};

pub enum Backend {
    File(FileStore),
    S3(S3Store),
}

pub enum Held {
    File(StateLock),
    S3(S3Lock),
}

impl Held {
    pub async fn release(self) {
        match self {
            Held::File(lock) => drop(lock),
            Held::S3(lock) => lock.release().await,
        }
    }
}

impl Backend {
    pub async fn open(location: &Location, aws_settings: &AwsSettings) -> Result<Backend, Error> {
        Ok(match location {
            Location::File(path) => Backend::File(FileStore::new(path)),
            Location::S3 { bucket, key } => {
                let config = aws::load(
                    aws_settings.profile.as_deref(),
                    aws_settings.region.as_deref(),
                )
                .await
                .map_err(|e| Error::Preflight(e.to_string()))?;
                Backend::S3(S3Store::new(&config, bucket, key))
            }
        })
    }

    pub async fn load(&self, stack: &str) -> Result<Option<StateDoc>, StateError> {
        match self {
            Backend::File(f) => f.load(stack),
            Backend::S3(s) => s.load(stack).await,
        }
    }

    pub fn sink(&self) -> Box<dyn StateSink> {
        match self {
            Backend::File(f) => Box::new(f.clone()),
            Backend::S3(s) => Box::new(s.clone()),
        }
    }

    pub async fn remove(&self) -> Result<(), StateError> {
        match self {
            Backend::File(f) => f.remove(),
            Backend::S3(s) => s.remove().await,
        }
    }

    pub async fn lock(&self, command: &str, timeout: Duration) -> Result<Held, StateError> {
        Ok(match self {
            Backend::File(f) => Held::File(f.lock(command, timeout).await?),
            Backend::S3(s) => Held::S3(s.lock(command, timeout).await?),
        })
    }
}
