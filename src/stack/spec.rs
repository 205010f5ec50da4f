//! A node's spec: one cloud's kind. Each cloud module defines its kinds; this only says whose.

use serde::{Deserialize, Serialize};

use crate::engine::{Kind, KindOf};
use crate::{aws, confluent, snowflake};

/// Whose API a node lives in; also the group it is drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cloud {
    Confluent,
    Aws,
    Snowflake,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Confluent => "confluent",
            Cloud::Aws => "aws",
            Cloud::Snowflake => "snowflake",
        }
    }
}

/// Serialized into the state with each node, so a node the stack no longer declares can still
/// be deleted (see `prune`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cloud", content = "spec", rename_all = "snake_case")]
pub enum Spec {
    Confluent(confluent::kinds::Spec),
    Aws(aws::kinds::Spec),
    Snowflake(snowflake::kinds::Spec),
}

impl Spec {
    pub fn cloud(&self) -> Cloud {
        match self {
            Spec::Confluent(_) => Cloud::Confluent,
            Spec::Aws(_) => Cloud::Aws,
            Spec::Snowflake(_) => Cloud::Snowflake,
        }
    }

    pub fn kind(&self) -> &dyn Kind {
        match self {
            Spec::Confluent(k) => k,
            Spec::Aws(k) => k,
            Spec::Snowflake(k) => k,
        }
    }
}

impl From<confluent::kinds::Spec> for Spec {
    fn from(s: confluent::kinds::Spec) -> Self {
        Spec::Confluent(s)
    }
}

impl From<aws::kinds::Spec> for Spec {
    fn from(s: aws::kinds::Spec) -> Self {
        Spec::Aws(s)
    }
}

impl From<snowflake::kinds::Spec> for Spec {
    fn from(s: snowflake::kinds::Spec) -> Self {
        Spec::Snowflake(s)
    }
}

/// Any one kind becomes a spec through its cloud's enum.
pub fn spec_of<K: KindOf>(kind: K) -> Spec
where
    Spec: From<K::Cloud>,
{
    Spec::from(K::Cloud::from(kind))
}
