//! The service user's RSA key pairs, in two slots. The pair is made and stored before any public
//! key is set on the user, so a crash never leaves a public key whose private key was lost. A due
//! rotation fills the other slot and makes it active; the old slot stays until the next rotation.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::Snowflake;
use crate::engine::{Change, Inputs, NodeError, Record, Resource};

/// One generated pair: the private key as unencrypted PKCS#8 PEM, the public key as the base64
/// body of its SPKI PEM (what RSA_PUBLIC_KEY takes), and its Snowflake fingerprint.
pub struct KeyPair {
    pub private_pem: SecretString,
    pub public_body: String,
    pub fingerprint: String,
}

impl KeyPair {
    pub fn generate() -> Result<KeyPair, NodeError> {
        let fail = |e: &dyn std::fmt::Display| {
            NodeError::Other(anyhow::anyhow!("cannot make an RSA key pair: {e}"))
        };
        let private = rsa::RsaPrivateKey::new(&mut rand_core(), 2048).map_err(|e| fail(&e))?;
        let pem = private.to_pkcs8_pem(LineEnding::LF).map_err(|e| fail(&e))?;
        let der = private
            .to_public_key()
            .to_public_key_der()
            .map_err(|e| fail(&e))?;
        Ok(KeyPair {
            private_pem: SecretString::from(pem.to_string()),
            public_body: STANDARD.encode(der.as_bytes()),
            fingerprint: fingerprint(der.as_bytes()),
        })
    }
}

fn rand_core() -> rsa::rand_core::OsRng {
    rsa::rand_core::OsRng
}

/// `SHA256:` + base64 of the SHA-256 of the public key's DER.
pub fn fingerprint(der: &[u8]) -> String {
    format!("SHA256:{}", STANDARD.encode(Sha256::digest(der)))
}

/// Where the secret lives: Secrets Manager (the AWS module), or memory in tests.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn read(&self, name: &str) -> Result<Option<SecretString>, NodeError>;
    /// Writes a new version (the secret is made if it does not exist).
    async fn write(&self, name: &str, value: SecretString) -> Result<(), NodeError>;
    /// Deletes at once, so that the next `create` can reuse the name.
    async fn delete(&self, name: &str) -> Result<(), NodeError>;
}

/// A store in memory, for tests.
#[derive(Default)]
pub struct MemoryStore(Mutex<std::collections::HashMap<String, SecretString>>);

#[async_trait]
impl SecretStore for MemoryStore {
    async fn read(&self, name: &str) -> Result<Option<SecretString>, NodeError> {
        Ok(self.0.lock().unwrap().get(name).cloned())
    }
    async fn write(&self, name: &str, value: SecretString) -> Result<(), NodeError> {
        self.0.lock().unwrap().insert(name.to_string(), value);
        Ok(())
    }
    async fn delete(&self, name: &str) -> Result<(), NodeError> {
        self.0.lock().unwrap().remove(name);
        Ok(())
    }
}

/// One slot of the secret.
#[derive(Clone, Serialize, Deserialize)]
struct Slot {
    public_key: String,
    /// Base64 of the PEM, as STACK.md has it.
    private_key: String,
    fingerprint: String,
    created_at: Timestamp,
}

/// The secret `/snowflake_resource/{name}`, as JSON.
#[derive(Clone, Serialize, Deserialize)]
struct Secret {
    account: String,
    user: String,
    active_key_number: u8,
    key_1: Option<Slot>,
    key_2: Option<Slot>,
}

impl Secret {
    fn slot(&self, n: u8) -> Option<&Slot> {
        if n == 1 {
            self.key_1.as_ref()
        } else {
            self.key_2.as_ref()
        }
    }

    fn set(&mut self, n: u8, slot: Slot) {
        if n == 1 {
            self.key_1 = Some(slot)
        } else {
            self.key_2 = Some(slot)
        }
    }
}

/// The vault names under which this run holds the key material.
pub fn public_key_name(slot: u8) -> String {
    format!("snowflake.public_key_{slot}")
}

pub fn private_key_name(slot: u8) -> String {
    format!("snowflake.private_key_{slot}")
}

/// The A5 node: the key pairs of the service user, kept in a secret store.
pub struct KeyPairs {
    sf: Arc<Snowflake>,
    store: Arc<dyn SecretStore>,
    name: String,
}

impl KeyPairs {
    pub fn new(sf: Arc<Snowflake>, store: Arc<dyn SecretStore>, name: &str) -> Self {
        KeyPairs {
            sf,
            store,
            name: name.to_string(),
        }
    }

    async fn read(&self) -> Result<Option<Secret>, NodeError> {
        let Some(text) = self.store.read(&self.name).await? else {
            return Ok(None);
        };
        let secret = serde_json::from_str(text.expose_secret()).map_err(|e| {
            NodeError::Other(anyhow::anyhow!(
                "the secret {} is not a key-pair document: {e}",
                self.name
            ))
        })?;
        Ok(Some(secret))
    }

    async fn write(&self, secret: &Secret) -> Result<(), NodeError> {
        let text = serde_json::to_string(secret).expect("the secret serializes");
        self.store.write(&self.name, SecretString::from(text)).await
    }

    /// Puts the key material where this run's other nodes read it, and records the rest.
    fn hold(&self, secret: &Secret) -> Record {
        let mut record =
            Record::new(&self.name).with("active_key_number", secret.active_key_number.to_string());
        for n in [1u8, 2] {
            if let Some(slot) = secret.slot(n) {
                self.sf.vault.put(
                    &public_key_name(n),
                    SecretString::from(slot.public_key.clone()),
                );
                self.sf.vault.put(
                    &private_key_name(n),
                    SecretString::from(slot.private_key.clone()),
                );
                record = record
                    .with(format!("fingerprint_{n}"), &slot.fingerprint)
                    .with(format!("created_at_{n}"), slot.created_at.to_string());
            }
        }
        record
    }

    async fn generate(&self) -> Result<Slot, NodeError> {
        // Key generation is CPU work; keep it off the threads that drive the other nodes.
        let pair = tokio::task::spawn_blocking(KeyPair::generate)
            .await
            .map_err(|e| NodeError::Other(anyhow::anyhow!("key generation stopped: {e}")))??;
        Ok(Slot {
            public_key: pair.public_body,
            private_key: STANDARD.encode(pair.private_pem.expose_secret()),
            fingerprint: pair.fingerprint,
            created_at: self.sf.clock.now(),
        })
    }
}

#[async_trait]
impl Resource for KeyPairs {
    async fn find(
        &self,
        _inputs: &Inputs,
        _known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        Ok(self.read().await?.map(|s| self.hold(&s)))
    }

    async fn create(&self, _inputs: &Inputs) -> Result<Record, NodeError> {
        let mut secret = Secret {
            account: self.sf.admin_account().to_string(),
            user: self.sf.names.upper("USER"),
            active_key_number: 1,
            key_1: None,
            key_2: None,
        };
        secret.set(1, self.generate().await?);
        self.write(&secret).await?;
        Ok(self.hold(&secret))
    }

    async fn due(&self, _inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        let active = record
            .outputs
            .get("active_key_number")
            .cloned()
            .unwrap_or_else(|| "1".into());
        let created: Option<Timestamp> = record
            .outputs
            .get(&format!("created_at_{active}"))
            .and_then(|c| c.parse().ok());
        let Some(created) = created else {
            return Ok(Some(Change::Rotate {
                reason: "the active key's age is not known".into(),
            }));
        };
        let age = self.sf.clock.now().duration_since(created);
        let limit = SignedDuration::from_hours(24 * i64::from(self.sf.rotation.day_count));
        Ok((age >= limit).then(|| Change::Rotate {
            reason: format!("the active key pair is {} days old", age.as_hours() / 24),
        }))
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        _record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        let Some(mut secret) = self.read().await? else {
            return self.create(inputs).await;
        };
        let next = 3 - secret.active_key_number;
        secret.set(next, self.generate().await?);
        secret.active_key_number = next;
        self.write(&secret).await?;
        Ok(self.hold(&secret))
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        self.store.delete(&self.name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_pkcs8_pem_with_an_spki_body_and_its_fingerprint() {
        let pair = KeyPair::generate().unwrap();
        assert!(
            pair.private_pem
                .expose_secret()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let der = STANDARD.decode(&pair.public_body).unwrap();
        use rsa::pkcs8::DecodePublicKey as _;
        let public = rsa::RsaPublicKey::from_public_key_der(&der).unwrap();
        use rsa::traits::PublicKeyParts as _;
        assert_eq!(public.size(), 256, "2048 bits");
        assert_eq!(pair.fingerprint, fingerprint(&der));
        assert!(pair.fingerprint.starts_with("SHA256:"));
    }
}
