//! What a cloud module's resource kinds tell the engine about themselves: the references they
//! hold (from which the graph's edges are derived, so a dependency is written once), a label,
//! and how long they take.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A reference to another node, typed by the kind it points at: `Ref<KafkaCluster>` can only
/// name a cluster, so a spec says what it reads from whom. It is the node's id underneath.
pub struct Ref<K: ?Sized> {
    id: String,
    kind: PhantomData<fn() -> K>,
}

/// The kind of a reference held only for order (start after it, delete before it), whose
/// outputs are not read.
pub enum Any {}

impl<K: ?Sized> Ref<K> {
    pub fn new(id: impl Into<String>) -> Self {
        Ref {
            id: id.into(),
            kind: PhantomData,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The same node, held for order only.
    pub fn any(&self) -> Ref<Any> {
        Ref::new(self.id.clone())
    }
}

impl<K: ?Sized> std::ops::Deref for Ref<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.id
    }
}

impl<K: ?Sized> Clone for Ref<K> {
    fn clone(&self) -> Self {
        Ref::new(self.id.clone())
    }
}

impl<K: ?Sized> PartialEq for Ref<K> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<K: ?Sized> Eq for Ref<K> {}

impl<K: ?Sized> fmt::Debug for Ref<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ref({})", self.id)
    }
}

impl<K: ?Sized> Serialize for Ref<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.id)
    }
}

impl<'de, K: ?Sized> Deserialize<'de> for Ref<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Ref::new)
    }
}

/// A resource kind's spec: the settings and references of one node.
pub trait Kind {
    /// Every node this one references, in any field: its dependencies.
    fn refs(&self) -> Vec<&str>;
    /// What a person reads: `topic stock_trades`. Two nodes of a stack never read the same.
    fn describe(&self) -> String;
    /// What a person reads once the resource has the id `id` (its record's). Only kinds whose
    /// name is chosen at create (a bucket's, a statement's) say more than [`Kind::describe`].
    fn named(&self, id: &str) -> String {
        let _ = id;
        self.describe()
    }
    /// How long it usually takes, and how long a wait for it may last.
    fn timing(&self) -> (Duration, Duration) {
        (Duration::from_secs(1), Duration::from_secs(300))
    }
}

/// Ties a kind's spec type to its cloud's spec enum, so a declaration can take the kind itself.
pub trait KindOf: Kind + Sized {
    type Cloud: From<Self>;
}

/// A referenced node's name as a spec carries it for labels, or, in a spec recorded before it
/// carried one, the last part of the node's id (`app_connector`).
pub fn name_or<'a, K: ?Sized>(name: &'a str, node: &'a Ref<K>) -> &'a str {
    match name {
        "" => node.id().rsplit('.').next().unwrap_or_default(),
        name => name,
    }
}

/// The label of a kind whose name is chosen at create, once it is known.
pub fn known_as(description: String, id: &str) -> String {
    match id {
        "" => description,
        id => format!("{description}, known as {id}"),
    }
}

/// The ids of a list of references, for [`Kind::refs`].
pub fn ids<K: ?Sized>(refs: &[Ref<K>]) -> impl Iterator<Item = &str> {
    refs.iter().map(|r| r.id())
}

/// Declares a cloud's spec enum: one variant per kind, each wrapping the kind's own spec type of
/// the same name, delegating [`Kind`] to it. Registering a new kind is one line here.
#[macro_export]
macro_rules! kinds {
    ($(#[$meta:meta])* pub enum $name:ident { $($kind:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum $name {
            $($kind($kind)),+
        }

        impl $crate::engine::Kind for $name {
            fn refs(&self) -> Vec<&str> {
                match self { $($name::$kind(k) => k.refs()),+ }
            }
            fn describe(&self) -> String {
                match self { $($name::$kind(k) => k.describe()),+ }
            }
            fn named(&self, id: &str) -> String {
                match self { $($name::$kind(k) => k.named(id)),+ }
            }
            fn timing(&self) -> (std::time::Duration, std::time::Duration) {
                match self { $($name::$kind(k) => k.timing()),+ }
            }
        }

        $(impl From<$kind> for $name {
            fn from(k: $kind) -> Self {
                $name::$kind(k)
            }
        }

        impl $crate::engine::KindOf for $kind {
            type Cloud = $name;
        })+
    };
}
