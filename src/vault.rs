//! Secrets in memory, by API key id: filled when a key is made (its secret is shown only then)
//! and read by the nodes that call with that key. Never written anywhere by this type; the
//! Secrets Manager nodes are what keep secrets across runs.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::SecretString;

#[derive(Default)]
pub struct Vault {
    secrets: Mutex<HashMap<String, SecretString>>,
}

impl Vault {
    pub fn put(&self, key_id: &str, secret: SecretString) {
        self.secrets
            .lock()
            .unwrap()
            .insert(key_id.to_string(), secret);
    }

    pub fn get(&self, key_id: &str) -> Option<SecretString> {
        self.secrets.lock().unwrap().get(key_id).cloned()
    }

    pub fn forget(&self, key_id: &str) {
        self.secrets.lock().unwrap().remove(key_id);
    }

    /// Every secret held, so tests can search the tool's output for each.
    pub fn all(&self) -> Vec<SecretString> {
        self.secrets.lock().unwrap().values().cloned().collect()
    }
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.secrets.lock().unwrap().len();
        write!(f, "Vault({n} secrets, redacted)")
    }
}
