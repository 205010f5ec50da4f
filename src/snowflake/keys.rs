//! The service user's RSA key pairs, in two slots. The pair is made and stored before any public
//! key is set on the user, so a crash never leaves a public key whose private key was lost. A due
//! rotation fills the other slot and makes it active; the old slot stays until the next rotation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
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
    /// [`Self::write`], a secret it makes carrying `tags` where the store has tags; a new
    /// version leaves the tags as they are.
    async fn write_tagged(
        &self,
        name: &str,
        value: SecretString,
        _tags: &BTreeMap<String, String>,
    ) -> Result<(), NodeError> {
        self.write(name, value).await
    }
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
#[derive(Clone)]
struct Slot {
    /// The base64 body of the SPKI PEM, as RSA_PUBLIC_KEY takes it.
    public_key: String,
    /// Base64 of the PEM, as STACK.md has it.
    private_key: String,
    fingerprint: String,
    created_at: Timestamp,
}

/// The secret `/snowflake_resource/{name}`.
#[derive(Clone)]
struct Secret {
    account: String,
    user: String,
    active_key_number: u8,
    key_1: Option<Slot>,
    key_2: Option<Slot>,
    /// Read in kickstart's first layout: the next `create` rewrites it in the seed's.
    first_layout: bool,
}

/// kickstart's first layout, still read so that its secrets are migrated.
#[derive(Deserialize)]
struct FirstLayout {
    account: String,
    user: String,
    active_key_number: u8,
    key_1: Option<FirstSlot>,
    key_2: Option<FirstSlot>,
}

#[derive(Deserialize)]
struct FirstSlot {
    public_key: String,
    private_key: String,
    fingerprint: String,
    created_at: Timestamp,
}

impl From<FirstSlot> for Slot {
    fn from(s: FirstSlot) -> Slot {
        Slot {
            public_key: s.public_key,
            private_key: s.private_key,
            fingerprint: s.fingerprint,
            created_at: s.created_at,
        }
    }
}

/// The SPKI PEM whose body is `body`, 64 characters a line.
fn public_pem(body: &str) -> String {
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

impl Secret {
    /// The seed's key names (what its rotation Lambda writes and its readers expect), plus the
    /// fingerprint and creation time of each slot, which kickstart's rotation needs.
    fn to_json(&self, name: &str) -> Value {
        let mut v = json!({
            "snowflake_account_identifier": self.account,
            "snowflake_service_user": self.user,
            "secrets_path": name,
            "active_key_number": self.active_key_number,
        });
        for n in [1u8, 2] {
            if let Some(slot) = self.slot(n) {
                v[format!("rsa_public_key_{n}_pem")] = json!(public_pem(&slot.public_key));
                v[format!("snowflake_rsa_public_key_{n}_pem")] = json!(slot.public_key);
                v[format!("snowflake_rsa_private_key_{n}_pem")] = json!(slot.private_key);
                v[format!("snowflake_rsa_public_key_{n}_fingerprint")] = json!(slot.fingerprint);
                v[format!("snowflake_rsa_key_{n}_created_at")] = json!(slot.created_at.to_string());
            }
        }
        v
    }

    fn from_json(text: &str) -> Result<Secret, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if v.get("key_1").is_some() || v.get("account").is_some() {
            let first: FirstLayout = serde_json::from_value(v).map_err(|e| e.to_string())?;
            return Ok(Secret {
                account: first.account,
                user: first.user,
                active_key_number: first.active_key_number,
                key_1: first.key_1.map(Slot::from),
                key_2: first.key_2.map(Slot::from),
                first_layout: true,
            });
        }
        let text_of = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let need = |k: &str| text_of(k).ok_or_else(|| format!("it lacks {k}"));
        let active = match v.get("active_key_number") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let active_key_number = match active {
            Some(n @ (1 | 2)) => n as u8,
            _ => return Err("active_key_number is not 1 or 2".into()),
        };
        let mut secret = Secret {
            account: need("snowflake_account_identifier")?,
            user: need("snowflake_service_user")?,
            active_key_number,
            key_1: None,
            key_2: None,
            first_layout: false,
        };
        for n in [1u8, 2] {
            let Some(public_key) = text_of(&format!("snowflake_rsa_public_key_{n}_pem")) else {
                continue;
            };
            let public_key: String = public_key.split_whitespace().collect();
            let fingerprint = match text_of(&format!("snowflake_rsa_public_key_{n}_fingerprint")) {
                Some(f) => f,
                None => STANDARD
                    .decode(&public_key)
                    .map(|der| fingerprint(&der))
                    .map_err(|_| format!("snowflake_rsa_public_key_{n}_pem is not base64"))?,
            };
            // A secret the seed's Lambda wrote has no creation time: its age is unknown, which
            // makes the next `create` rotate, as the seed's own schedule would have by now.
            let created_at = text_of(&format!("snowflake_rsa_key_{n}_created_at"))
                .and_then(|t| t.parse().ok())
                .unwrap_or(Timestamp::UNIX_EPOCH);
            secret.set(
                n,
                Slot {
                    public_key,
                    private_key: need(&format!("snowflake_rsa_private_key_{n}_pem"))?,
                    fingerprint,
                    created_at,
                },
            );
        }
        Ok(secret)
    }

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
    user: String,
    tags: BTreeMap<String, String>,
}

impl KeyPairs {
    pub fn new(
        sf: Arc<Snowflake>,
        store: Arc<dyn SecretStore>,
        spec: super::kinds::KeyPairs,
    ) -> Self {
        KeyPairs {
            sf,
            store,
            name: spec.secret_name,
            user: spec.user_name,
            tags: spec.tags,
        }
    }

    async fn read(&self) -> Result<Option<Secret>, NodeError> {
        let Some(text) = self.store.read(&self.name).await? else {
            return Ok(None);
        };
        let secret = Secret::from_json(text.expose_secret()).map_err(|e| {
            NodeError::Other(anyhow::anyhow!(
                "the secret {} is not a key-pair document ({e}); delete it or restore deploy.sh's",
                self.name
            ))
        })?;
        Ok(Some(secret))
    }

    async fn write(&self, secret: &Secret) -> Result<(), NodeError> {
        let text = secret.to_json(&self.name).to_string();
        self.store
            .write_tagged(&self.name, SecretString::from(text), &self.tags)
            .await
    }

    /// Puts the key material where this run's other nodes read it, and records the rest.
    fn hold(&self, secret: &Secret) -> Record {
        let mut record =
            Record::new(&self.name).with("active_key_number", secret.active_key_number.to_string());
        if secret.first_layout {
            record = record.with("layout", FIRST_LAYOUT);
        }
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
            user: self.user.clone(),
            active_key_number: 1,
            key_1: None,
            key_2: None,
            first_layout: false,
        };
        secret.set(1, self.generate().await?);
        self.write(&secret).await?;
        Ok(self.hold(&secret))
    }

    async fn due(&self, _inputs: &Inputs, record: &Record) -> Result<Option<Change>, NodeError> {
        if let Some(change) = self.age_due(record) {
            return Ok(Some(change));
        }
        Ok(
            (record.outputs.get("layout").map(String::as_str) == Some(FIRST_LAYOUT)).then(|| {
                Change::Rotate {
                    reason: "the secret is in kickstart's first layout; it is rewritten in deploy.sh's key names".into(),
                }
            }),
        )
    }

    async fn apply(
        &self,
        inputs: &Inputs,
        record: &Record,
        _change: &Change,
    ) -> Result<Record, NodeError> {
        let Some(mut secret) = self.read().await? else {
            return self.create(inputs).await;
        };
        // A migration alone keeps the keys: only their names in the secret change.
        if self.age_due(record).is_some() {
            let next = 3 - secret.active_key_number;
            secret.set(next, self.generate().await?);
            secret.active_key_number = next;
        }
        secret.first_layout = false;
        self.write(&secret).await?;
        Ok(self.hold(&secret))
    }

    async fn delete(&self, _inputs: &Inputs, _record: &Record) -> Result<(), NodeError> {
        self.store.delete(&self.name).await
    }
}

/// The record's mark of a secret read in kickstart's first layout.
const FIRST_LAYOUT: &str = "first";

impl KeyPairs {
    /// A rotation, when the active pair is `day-count` days old (or its age is not known).
    fn age_due(&self, record: &Record) -> Option<Change> {
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
            return Some(Change::Rotate {
                reason: "the active key's age is not known".into(),
            });
        };
        let age = self.sf.clock.now().duration_since(created);
        let limit = SignedDuration::from_hours(24 * i64::from(self.sf.rotation.day_count));
        (age >= limit).then(|| Change::Rotate {
            reason: format!("the active key pair is {} days old", age.as_hours() / 24),
        })
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

    #[test]
    fn the_secret_is_written_in_the_seeds_key_names_and_the_first_layout_is_read() {
        let pair = KeyPair::generate().unwrap();
        let slot = Slot {
            public_key: pair.public_body.clone(),
            private_key: STANDARD.encode(pair.private_pem.expose_secret()),
            fingerprint: pair.fingerprint.clone(),
            created_at: Timestamp::from_second(1_700_000_000).unwrap(),
        };
        let mut secret = Secret {
            account: "ORG-ACCT".into(),
            user: "U".into(),
            active_key_number: 1,
            key_1: None,
            key_2: None,
            first_layout: false,
        };
        secret.set(1, slot.clone());
        let v = secret.to_json("/snowflake_resource/s");
        for key in [
            "snowflake_account_identifier",
            "snowflake_service_user",
            "active_key_number",
            "rsa_public_key_1_pem",
            "snowflake_rsa_public_key_1_pem",
            "snowflake_rsa_private_key_1_pem",
        ] {
            assert!(v.get(key).is_some(), "{key} missing from {v}");
        }
        assert!(v.get("snowflake_rsa_private_key_2_pem").is_none());
        let back = Secret::from_json(&v.to_string()).unwrap();
        assert!(!back.first_layout);
        let back1 = back.slot(1).unwrap();
        assert_eq!(back1.fingerprint, pair.fingerprint);
        assert_eq!(back1.created_at, slot.created_at);

        // The seed's Lambda writes no fingerprint: it is computed from the public key.
        let mut seed = v.clone();
        seed.as_object_mut()
            .unwrap()
            .retain(|k, _| !k.ends_with("_fingerprint"));
        let from_seed = Secret::from_json(&seed.to_string()).unwrap();
        assert_eq!(from_seed.slot(1).unwrap().fingerprint, pair.fingerprint);

        let first = json!({"account": "ORG-ACCT", "user": "U", "active_key_number": 1,
            "key_1": {"public_key": slot.public_key, "private_key": slot.private_key,
            "fingerprint": slot.fingerprint, "created_at": slot.created_at}, "key_2": null});
        let read = Secret::from_json(&first.to_string()).unwrap();
        assert!(
            read.first_layout,
            "a first-layout secret is marked for migration"
        );
        assert_eq!(read.slot(1).unwrap().public_key, pair.public_body);
        assert!(Secret::from_json(r#"{"snowflake_service_user": "U"}"#).is_err());
    }
}
