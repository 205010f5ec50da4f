//! The Snowflake kinds' specs, with every name computed by the stack and carried here.
//! References to the other clouds' nodes are `Ref<Any>`, read for named outputs only.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::engine::{Any, Kind, Ref, ids};

crate::kinds! {
    /// Every Snowflake kind.
    pub enum Spec {
        Warehouse,
        Database,
        Schema,
        Role,
        User,
        Grant,
        ExternalVolume,
        GlueCatalogIntegration,
        IcebergTable,
        KeyPairs,
    }
}

macro_rules! named {
    ($kind:ident, $what:literal) => {
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $kind {
            pub name: String,
            /// Its COMMENT, set at create only (see [`User::comment`]).
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub comment: String,
        }

        impl Kind for $kind {
            fn refs(&self) -> Vec<&str> {
                vec![]
            }
            fn describe(&self) -> String {
                format!(concat!($what, " {}"), self.name)
            }
        }
    };
}

named!(Warehouse, "Snowflake warehouse");
named!(Database, "Snowflake database");
named!(Role, "Snowflake role");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub database: Ref<Database>,
    pub database_name: String,
}

impl Kind for Schema {
    fn refs(&self) -> Vec<&str> {
        vec![&self.database]
    }
    fn describe(&self) -> String {
        format!("Snowflake schema {}.{}", self.database_name, self.name)
    }
}

/// The service user: its defaults, and the keys of the key pairs' slots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub warehouse: Ref<Warehouse>,
    pub warehouse_name: String,
    pub default_role_name: String,
    pub schema: Ref<Schema>,
    pub database_name: String,
    pub schema_name: String,
    pub key_pairs: Ref<KeyPairs>,
    /// Made before it: its database and the role that will hold privileges on it.
    pub after: Vec<Ref<Any>>,
    /// Its COMMENT: which stack made it. Set at create only and never compared: a comment
    /// edited since is no drift, and an adopted object keeps its own.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

impl Kind for User {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![self.warehouse.id(), &self.schema, &self.key_pairs];
        refs.extend(ids(&self.after));
        refs
    }
    fn describe(&self) -> String {
        format!("Snowflake user {}", self.name)
    }
}

/// What a GRANT gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    /// A privilege (`USAGE`, or `ALL PRIVILEGES`) on an object (`WAREHOUSE`, `DATABASE`,
    /// `SCHEMA`, `EXTERNAL VOLUME`, `INTEGRATION`, `USER`) to a role; a schema's `database`
    /// qualifies it.
    Usage {
        privilege: String,
        object_type: String,
        object: String,
        database: Option<String>,
        role: String,
    },
    /// A role to the service user.
    Role { role: String, user: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub grant: Privilege,
    /// The role granted to or granted, and the object it is on.
    pub role: Ref<Role>,
    pub on: Ref<Any>,
}

impl Kind for Grant {
    fn refs(&self) -> Vec<&str> {
        vec![&self.role, &self.on]
    }
    fn describe(&self) -> String {
        match &self.grant {
            Privilege::Usage {
                privilege,
                object_type,
                object,
                database,
                role,
            } => {
                let object = match database {
                    Some(database) => format!("{database}.{object}"),
                    None => object.clone(),
                };
                format!("grant {privilege} on {object_type} {object} to role {role}")
            }
            Privilege::Role { role, user } => format!("grant role {role} to user {user}"),
        }
    }
}

/// Reads Tableflow's base path (the `base_path` output of `base`) through the role `role_arn`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalVolume {
    pub name: String,
    pub location: String,
    pub base: Ref<Any>,
    pub role_arn: String,
    /// Its COMMENT, set at create only (see [`User::comment`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

impl Kind for ExternalVolume {
    fn refs(&self) -> Vec<&str> {
        vec![&self.base]
    }
    fn describe(&self) -> String {
        format!("Snowflake external volume {}", self.name)
    }
}

/// Reads the Glue database named after the Kafka cluster (the `namespace` node's id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlueCatalogIntegration {
    pub name: String,
    pub namespace: Ref<Any>,
    pub role_arn: String,
    pub aws_account: String,
    pub region: String,
    /// Its COMMENT, set at create only (see [`User::comment`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

impl Kind for GlueCatalogIntegration {
    fn refs(&self) -> Vec<&str> {
        vec![&self.namespace]
    }
    fn describe(&self) -> String {
        format!("Snowflake catalog integration {}", self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IcebergTable {
    /// The table's name, and the Glue table (the topic) it reads.
    pub name: String,
    pub topic: String,
    pub schema: Ref<Schema>,
    pub database_name: String,
    pub schema_name: String,
    pub volume: Ref<ExternalVolume>,
    pub volume_name: String,
    pub catalog: Ref<GlueCatalogIntegration>,
    pub catalog_name: String,
    /// The role's trust and policy, the catalog sync, and Tableflow on the topic: the table can
    /// be read only once they are there.
    pub after: Vec<Ref<Any>>,
}

impl Kind for IcebergTable {
    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![self.schema.id(), &self.volume, &self.catalog];
        refs.extend(ids(&self.after));
        refs
    }
    fn describe(&self) -> String {
        // Made with an unquoted name, which Snowflake keeps in upper case.
        format!(
            "Snowflake Iceberg table {}.{}.{}",
            self.database_name,
            self.schema_name,
            self.name.to_ascii_uppercase()
        )
    }
    fn timing(&self) -> (Duration, Duration) {
        (Duration::from_secs(5), Duration::from_secs(600))
    }
}

/// The service user's key pairs, kept in a secret (A5): made and stored before the user, so a
/// crash never leaves a public key on the user whose private key was lost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyPairs {
    pub secret_name: String,
    pub user_name: String,
    /// The tags the secret is made with (it lives in Secrets Manager): set at create only.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub tags: std::collections::BTreeMap<String, String>,
}

impl Kind for KeyPairs {
    fn refs(&self) -> Vec<&str> {
        vec![]
    }
    fn describe(&self) -> String {
        format!(
            "secret {} (key pairs of Snowflake user {})",
            self.secret_name, self.user_name
        )
    }
    fn timing(&self) -> (Duration, Duration) {
        (Duration::from_secs(2), Duration::from_secs(300))
    }
}
