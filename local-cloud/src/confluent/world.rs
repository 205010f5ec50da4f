//! What the emulated Confluent Cloud organization holds, and how time moves it along: every
//! asynchronous resource is made in its first phase and `settle` advances it once its delay passed.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long each asynchronous kind stays in its first phase.
#[derive(Clone, Debug)]
pub struct Delays {
    pub cluster: Duration,
    pub schema_registry: Duration,
    pub compute_pool: Duration,
    pub connector: Duration,
    pub statement: Duration,
    pub tableflow: Duration,
    pub catalog: Duration,
    /// From a topic's first snapshot to its table in Glue: the catalog sync's lag.
    pub publish: Duration,
    /// How long a new API key takes to be accepted by the data planes, drawn in this range.
    pub key_propagation: (Duration, Duration),
    /// How long a new role binding takes to grant anything, drawn in this range.
    pub binding_propagation: (Duration, Duration),
    /// How long an asynchronous delete (cluster, pool, connector, topic, statement) lasts.
    pub deleting: Duration,
}

impl Delays {
    pub fn uniform(d: Duration) -> Self {
        Delays {
            cluster: d,
            schema_registry: d,
            compute_pool: d,
            connector: d,
            statement: d,
            tableflow: d,
            catalog: d,
            publish: d,
            key_propagation: (d / 2, d * 2),
            binding_propagation: (d / 2, d * 2),
            deleting: d,
        }
    }

    /// No propagation delay and no deleting phase: everything takes effect at once.
    pub fn immediate(mut self) -> Self {
        self.key_propagation = (Duration::ZERO, Duration::ZERO);
        self.binding_propagation = (Duration::ZERO, Duration::ZERO);
        self.deleting = Duration::ZERO;
        self
    }
}

/// One stored object: its JSON as the API returns it (without per-request URLs), its birth.
#[derive(Clone, Debug)]
pub struct Item {
    pub json: Value,
    pub born: Instant,
    pub order: u64,
    /// How long after its birth it takes effect (a key or binding propagating).
    pub settles: Duration,
    /// When its asynchronous delete began.
    pub deleting: Option<Instant>,
}

impl Item {
    /// Whether it has propagated: a key is accepted, a binding grants its role.
    pub fn settled(&self) -> bool {
        self.born.elapsed() >= self.settles
    }

    /// Starts an asynchronous delete: the item shows `phase` until `reap` removes it.
    pub fn start_deleting(&mut self, pointer: &str, phase: &str) {
        if self.deleting.is_none() {
            self.deleting = Some(Instant::now());
        }
        if let Some(slot) = self.json.pointer_mut(pointer) {
            *slot = json!(phase);
        }
    }
}

/// Removes the items whose asynchronous delete has lasted `after`; gives their keys.
pub fn reap<K: Ord + Clone>(items: &mut BTreeMap<K, Item>, after: Duration) -> Vec<K> {
    let done: Vec<K> = items
        .iter()
        .filter(|(_, i)| i.deleting.is_some_and(|t| t.elapsed() >= after))
        .map(|(k, _)| k.clone())
        .collect();
    for k in &done {
        items.remove(k);
    }
    done
}

/// A Tableflow topic's table, as Glue will list it.
#[derive(Clone, Debug)]
pub struct Table {
    pub topic: String,
    pub location: String,
    pub metadata: String,
    /// When its first snapshot was written; the catalog sync publishes it a lag later.
    pub written: Option<Instant>,
}

/// An API key, with the secret that only its create response shows.
#[derive(Clone, Debug)]
pub struct Key {
    pub item: Item,
    pub secret: String,
    pub owner: String,
    pub resource: Option<String>,
}

#[derive(Default)]
pub struct World {
    seq: u64,
    pub environments: BTreeMap<String, Item>,
    pub clusters: BTreeMap<String, Item>,
    pub schema_registries: BTreeMap<String, Item>,
    pub service_accounts: BTreeMap<String, Item>,
    pub keys: BTreeMap<String, Key>,
    /// The organization's Cloud API key, owned by a user: readable by id, as the real one is.
    pub cloud_key: Option<Item>,
    pub role_bindings: BTreeMap<String, Item>,
    pub compute_pools: BTreeMap<String, Item>,
    pub integrations: BTreeMap<String, Item>,
    /// By (cluster id, topic name): Tableflow topics have no id of their own.
    pub tableflow_topics: BTreeMap<(String, String), Item>,
    pub catalog_integrations: BTreeMap<String, Item>,
    /// By (environment id, cluster id, connector name).
    pub connectors: BTreeMap<(String, String, String), Item>,
    /// By (cluster id, topic name).
    pub topics: BTreeMap<(String, String), Item>,
    /// By cluster id, in creation order.
    pub acls: BTreeMap<String, Vec<Value>>,
    /// By (environment id, statement name).
    pub statements: BTreeMap<(String, String), Item>,
    /// Work in the customer's AWS account that has started and not finished, by its job key.
    pub under_way: BTreeSet<String>,
    /// The tables Tableflow has materialized on a customer's bucket, by (cluster id, topic).
    pub tables: BTreeMap<(String, String), Table>,
    /// The tables a Glue catalog integration has published, by (cluster id, topic).
    pub published: BTreeSet<(String, String)>,
}

pub const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl World {
    pub fn item(&mut self, json: Value) -> Item {
        self.seq += 1;
        Item {
            json,
            born: Instant::now(),
            order: self.seq,
            settles: Duration::ZERO,
            deleting: None,
        }
    }

    /// An item that takes effect after a delay drawn from `range` (propagation).
    pub fn item_settling(&mut self, json: Value, range: (Duration, Duration)) -> Item {
        let mut item = self.item(json);
        let (lo, hi) = range;
        let span = hi.saturating_sub(lo).as_millis() as u64;
        let mut rng = fastrand::Rng::with_seed(self.seq.wrapping_mul(0xA24B_AED4_963E_E407));
        item.settles = lo + Duration::from_millis(if span == 0 { 0 } else { rng.u64(..=span) });
        item
    }

    /// A fresh id like the service's: a prefix and lowercase letters and digits.
    pub fn id(&mut self, prefix: &str, len: usize) -> String {
        self.seq += 1;
        let mut rng = fastrand::Rng::with_seed(self.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let tail: String = (0..len)
            .map(|_| ALNUM[rng.usize(..ALNUM.len())] as char)
            .collect();
        format!("{prefix}-{tail}")
    }

    /// An API key id: 16 upper-case letters and digits.
    pub fn key_id(&mut self) -> (String, String) {
        self.seq += 1;
        let mut rng = fastrand::Rng::with_seed(self.seq.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let upper: Vec<u8> = ALNUM.iter().map(u8::to_ascii_uppercase).collect();
        let id: String = (0..16)
            .map(|_| upper[rng.usize(..upper.len())] as char)
            .collect();
        let secret: String = (0..64)
            .map(|_| ALNUM[rng.usize(..ALNUM.len())] as char)
            .collect();
        (id, secret)
    }

    pub fn uuid(&mut self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// RFC 3339 time, as every `metadata.created_at` carries it.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

/// Sets `status.phase` from the item's age: `first` until `delay` has passed, then `then`.
pub fn phase(item: &mut Item, delay: Duration, first: &str, then: &str) -> bool {
    if item.deleting.is_some() {
        return false;
    }
    let ready = item.born.elapsed() >= delay;
    item.json["status"]["phase"] = json!(if ready { then } else { first });
    ready
}

/// Where objects name their scope: most keep their environment under `spec`, integrations at the
/// top, and catalog integrations are scoped by their Kafka cluster too.
pub const SPEC_ENV: &str = "/spec/environment/id";
pub const TOP_ENV: &str = "/environment/id";
pub const CLUSTER_OF: &str = "/spec/kafka_cluster/id";
