//! What the state holds that the stack no longer declares: a topic renamed or removed from the
//! file, a node an earlier version made. Each becomes a retired node, rebuilt from the spec the
//! state recorded with it, so that `create` and `delete` remove it instead of leaking it.

use super::ids::*;
use super::{Cloud, Decl, Names, Spec};
use crate::aws::kinds::{self as aws, SecretBody};
use crate::confluent::kinds::*;
use crate::engine::Ref;
use crate::state::StateDoc;

/// Ids earlier versions recorded one-of-a-kind nodes under, and the ids they have now.
const RENAMED: [(&str, &str); 2] = [
    ("confluent.connector", CONNECTOR),
    ("confluent.flink_statement", STATEMENT),
];

/// Moves records of earlier versions to the ids nodes have now; true when one moved.
pub fn legacy_rename(doc: &mut StateDoc) -> bool {
    let mut moved = false;
    for (from, to) in RENAMED {
        moved |= doc.rename(from, to);
    }
    moved
}

/// Adds a retired node for every recorded node that `decls` does not declare. Gives back the
/// ids it cannot rebuild: recorded by an earlier kickstart without their spec.
pub fn prune(decls: &mut Vec<Decl>, doc: &StateDoc, names: &Names) -> Vec<String> {
    let mut unknown = Vec::new();
    let declared: std::collections::BTreeSet<String> = decls.iter().map(|d| d.id.clone()).collect();
    let legacy = legacy(names);
    for (id, entry) in &doc.nodes {
        if declared.contains(id) {
            continue;
        }
        let recorded = entry
            .spec
            .as_ref()
            .and_then(|v| serde_json::from_value::<Decl0>(v.clone()).ok());
        let decl = match recorded {
            Some(Decl0 { reference, spec }) => Some(Decl {
                id: id.clone(),
                reference,
                spec,
                retired: true,
                known: None,
            }),
            None => legacy.iter().find(|d| &d.id == id).cloned(),
        };
        match decl {
            Some(decl) => decls.push(Decl {
                known: Some(entry.record.id.clone()),
                ..decl
            }),
            None => unknown.push(id.clone()),
        }
    }
    unknown
}

/// What the state records of a declaration.
#[derive(serde::Serialize, serde::Deserialize)]
struct Decl0 {
    reference: String,
    spec: Spec,
}

/// What a person reads of a node the state recorded with its spec, and its cloud.
pub fn recorded_label(spec: &serde_json::Value) -> Option<(String, Cloud)> {
    let recorded: Decl0 = serde_json::from_value(spec.clone()).ok()?;
    Some((recorded.spec.kind().describe(), recorded.spec.cloud()))
}

/// The spec the state records with a node.
pub fn recorded_spec(decl: &Decl) -> serde_json::Value {
    serde_json::to_value(Decl0 {
        reference: decl.reference.clone(),
        spec: decl.spec.clone(),
    })
    .unwrap_or_default()
}

/// Nodes earlier versions made without recording a spec, which this version no longer wants:
/// the connector's own key and its client secret (the connector now runs as its account), and
/// the Flink runner's EnvironmentAdmin binding (it now holds narrower roles).
fn legacy(names: &Names) -> Vec<Decl> {
    let account = Ref::<ServiceAccount>::new(format!("{SERVICE_ACCOUNT}app_connector"));
    let runner = Ref::<ServiceAccount>::new(format!("{SERVICE_ACCOUNT}flink_statements_runner"));
    let key = ApiKey {
        display_name: format!("{} {CONNECTOR_KEY}", names.stack()),
        owner: account,
        scope: KeyScope::KafkaCluster {
            cluster: Ref::new(CLUSTER),
            environment: Ref::new(ENV),
        },
        after: vec![Ref::new(CONNECTOR)],
        owner_name: names.service_account("app_connector"),
        scope_name: names.stack().into(),
    };
    let secret = aws::Secret {
        name: names.confluent_secret("kafka_cluster/app_connector/python_client"),
        description: format!("kickstart stack {}", names.stack()),
        key: Ref::new(CONNECTOR_KEY),
        body: SecretBody::KafkaClient {
            cluster: Ref::new(CLUSTER),
        },
        tags: Default::default(),
    };
    let admin = RoleBinding {
        principal: runner,
        role: "EnvironmentAdmin".into(),
        on: Scope::Environment(Ref::new(ENV)),
        pattern: String::new(),
        integration: None,
        after: vec![Ref::new(STATEMENT)],
        principal_name: names.service_account("flink_statements_runner"),
        scope_name: names.stack().into(),
        integration_name: String::new(),
    };
    let retired = |id: &str, reference: &str, spec: Spec| Decl {
        id: id.into(),
        reference: reference.into(),
        spec,
        retired: true,
        known: None,
    };
    vec![
        retired(CONNECTOR_KEY, "C5", Spec::Confluent(key.into())),
        retired(CONNECTOR_SECRET, "A4", Spec::Aws(secret.into())),
        retired(FLINK_ADMIN, "C4", Spec::Confluent(admin.into())),
    ]
}
