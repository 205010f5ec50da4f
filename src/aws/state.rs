//! The state in S3, for CI jobs that create on one machine and delete on another. The lock is an
//! object beside it written with `If-None-Match: *`: S3 takes it only if no lock exists, so two
//! runs cannot both hold it. A holder on another machine cannot be known dead, so a stale lock is
//! waited for (`--lock-timeout`) or removed by hand; the message names its holder.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;

use crate::engine::StateSink;
use crate::state::{LockHolder, StateDoc, StateError};

#[derive(Clone)]
pub struct S3Store {
    s3: aws_sdk_s3::Client,
    bucket: String,
    key: String,
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl S3Store {
    pub fn new(config: &aws_config::SdkConfig, bucket: &str, key: &str) -> Self {
        S3Store {
            s3: client(config),
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    fn shown(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| StateError::Read {
                    path: self.shown(),
                    source: io(e),
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(StateError::Read {
                path: self.shown(),
                source: io(aws_sdk_s3::error::DisplayErrorContext(e)),
            }),
        }
    }

    pub async fn load(&self, stack: &str) -> Result<Option<StateDoc>, StateError> {
        match self.read(&self.key).await? {
            Some(bytes) => {
                StateDoc::from_json(&self.shown(), &String::from_utf8_lossy(&bytes), stack)
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    pub async fn remove(&self) -> Result<(), StateError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|e| StateError::Write {
                path: self.shown(),
                source: io(aws_sdk_s3::error::DisplayErrorContext(e)),
            })?;
        Ok(())
    }

    /// Takes the lock, waiting up to `timeout` for its holder to let go.
    pub async fn lock(&self, command: &str, timeout: Duration) -> Result<S3Lock, StateError> {
        let me = serde_json::to_vec(&LockHolder::for_this_process(command))
            .expect("a holder serializes");
        let give_up = tokio::time::Instant::now() + timeout;
        loop {
            let put = self
                .s3
                .put_object()
                .bucket(&self.bucket)
                .key(self.lock_key())
                .if_none_match("*")
                .body(ByteStream::from(me.clone()))
                .send()
                .await;
            match put {
                Ok(_) => {
                    return Ok(S3Lock {
                        store: self.clone(),
                    });
                }
                Err(e)
                    if e.raw_response()
                        .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) => {}
                Err(e) => {
                    return Err(StateError::Write {
                        path: self.shown(),
                        source: io(aws_sdk_s3::error::DisplayErrorContext(e)),
                    });
                }
            }
            if tokio::time::Instant::now() >= give_up {
                let holder = self
                    .read(&self.lock_key())
                    .await?
                    .and_then(|b| serde_json::from_slice(&b).ok());
                let holder = holder.unwrap_or_else(|| LockHolder {
                    pid: 0,
                    host: "an unknown host".into(),
                    started_at: jiff::Timestamp::UNIX_EPOCH,
                    command: "?".into(),
                });
                return Err(StateError::Locked {
                    path: self.shown(),
                    holder,
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

fn client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let mut s3 = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        s3 = s3.force_path_style(true);
    }
    super::retries::s3(s3, &crate::engine::RetryPolicy::default())
}

/// The stacks recorded under a shared prefix: its own `<stack>.json` objects (not locks, not
/// what lies under a deeper `/`), sorted. Reads only.
pub async fn stacks_under(
    config: &aws_config::SdkConfig,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, StateError> {
    let s3 = client(config);
    let failed = |e: String| StateError::Read {
        path: format!("s3://{bucket}/{prefix}"),
        source: io(e),
    };
    let mut stacks = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| failed(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        for object in page.contents() {
            let name = object.key().and_then(|k| k.strip_prefix(prefix));
            if let Some(stack) = name.and_then(crate::state::location::stack_of) {
                stacks.push(stack.to_string());
            }
        }
    }
    stacks.sort();
    Ok(stacks)
}

#[async_trait]
impl StateSink for S3Store {
    async fn save(&self, doc: &StateDoc) -> Result<(), StateError> {
        let mut text = serde_json::to_vec_pretty(doc).expect("a state document always serializes");
        text.push(b'\n');
        // A PUT replaces the object whole: readers see the old document or the new.
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(text))
            .send()
            .await
            .map_err(|e| StateError::Write {
                path: self.shown(),
                source: io(aws_sdk_s3::error::DisplayErrorContext(e)),
            })?;
        Ok(())
    }
}

/// The held lock; `release` removes it. A run that dies without releasing leaves it for the next
/// run's message to name.
pub struct S3Lock {
    store: S3Store,
}

impl S3Lock {
    pub async fn release(self) {
        let _ = self
            .store
            .s3
            .delete_object()
            .bucket(&self.store.bucket)
            .key(self.store.lock_key())
            .send()
            .await;
    }
}
