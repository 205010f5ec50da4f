//! Reading a Terraform state (the JSON `terraform state pull` writes, format version 4) of the
//! seed's configuration: each resource instance by its address, with its attributes. Only ids
//! and names are taken out of it; the state's secrets (API key secrets, secret strings) are never
//! copied anywhere.

use serde::Deserialize;
use serde_json::Value;

/// The one format version this reads: Terraform 0.12 and every later release write 4.
pub const FORMAT_VERSION: u64 = 4;

#[derive(Debug, thiserror::Error)]
pub enum TerraformError {
    #[error(
        "cannot read the Terraform state {path}: {reason}; give the file `terraform state pull > FILE` wrote"
    )]
    Read { path: String, reason: String },
    #[error(
        "the Terraform state {path} is damaged ({reason}); pull it again with `terraform state pull > FILE`"
    )]
    Damaged { path: String, reason: String },
    #[error(
        "the Terraform state {path} has format version {found}; kickstart reads version {FORMAT_VERSION}: pull it with Terraform 0.12 or newer, or upgrade kickstart if Terraform wrote a newer one"
    )]
    Version { path: String, found: u64 },
    #[error(
        "the Terraform state {path} is not of deploy.sh's configuration (it lacks {missing}); import only the state of the Tableflow kickstarter's Terraform"
    )]
    OtherConfiguration { path: String, missing: String },
    #[error(
        "the Terraform state {path} is of the stack '{found}', not '{expected}'; pass --stack-name {found}"
    )]
    OtherStack {
        path: String,
        found: String,
        expected: String,
    },
}

/// One resource instance of the state.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `module.x.type.name[key]`, as `terraform state list` prints it.
    pub address: String,
    pub module: Option<String>,
    pub mode: String,
    pub kind: String,
    pub name: String,
    pub attributes: Value,
}

impl Instance {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// The Terraform type and name within its module, e.g. `confluent_api_key.resouce_api_key`.
    pub fn local(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
}

#[derive(Deserialize)]
struct Doc {
    version: u64,
    #[serde(default)]
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(default)]
    instances: Vec<RawInstance>,
}

#[derive(Deserialize)]
struct RawInstance {
    #[serde(default)]
    index_key: Option<Value>,
    #[serde(default)]
    attributes: Value,
}

/// Parses the state's text, refusing another format version before reading anything else.
pub fn parse(path: &str, text: &str) -> Result<Vec<Instance>, TerraformError> {
    let damaged = |e: serde_json::Error| TerraformError::Damaged {
        path: path.to_string(),
        reason: e.to_string(),
    };
    let head: Value = serde_json::from_str(text).map_err(damaged)?;
    let version =
        head.get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| TerraformError::Damaged {
                path: path.to_string(),
                reason: "no format version".into(),
            })?;
    if version != FORMAT_VERSION {
        return Err(TerraformError::Version {
            path: path.to_string(),
            found: version,
        });
    }
    let doc: Doc = serde_json::from_value(head).map_err(damaged)?;
    let _ = doc.version;
    let mut out = Vec::new();
    for r in doc.resources {
        for i in r.instances {
            let key = match &i.index_key {
                None => String::new(),
                Some(Value::String(s)) => format!("[{s:?}]"),
                Some(other) => format!("[{other}]"),
            };
            let prefix = r.module.as_ref().map_or(String::new(), |m| format!("{m}."));
            let data = if r.mode == "data" { "data." } else { "" };
            out.push(Instance {
                address: format!("{prefix}{data}{}.{}{key}", r.kind, r.name),
                module: r.module.clone(),
                mode: r.mode.clone(),
                kind: r.kind.clone(),
                name: r.name.clone(),
                attributes: i.attributes,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_addresses_and_refuses_other_versions_and_damage() {
        let text = r#"{"version": 4, "terraform_version": "1.9.0", "serial": 3, "lineage": "l",
            "outputs": {}, "resources": [
            {"mode": "managed", "type": "confluent_environment", "name": "tableflow_kickstarter",
             "provider": "provider[\"registry.terraform.io/confluentinc/confluent\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": "env-1"}}]},
            {"module": "module.create_set_1", "mode": "managed", "type": "confluent_flink_statement",
             "name": "statement", "provider": "p",
             "instances": [{"index_key": "01", "attributes": {"statement_name": "s"}}]},
            {"mode": "data", "type": "confluent_schema_registry_cluster", "name": "env",
             "provider": "p", "instances": [{"attributes": {"id": "lsrc-1"}}]}]}"#;
        let all = parse("f", text).unwrap();
        let addresses: Vec<&str> = all.iter().map(|i| i.address.as_str()).collect();
        assert_eq!(
            addresses,
            [
                "confluent_environment.tableflow_kickstarter",
                "module.create_set_1.confluent_flink_statement.statement[\"01\"]",
                "data.confluent_schema_registry_cluster.env"
            ]
        );
        assert_eq!(all[0].text("id"), Some("env-1"));
        let newer = r#"{"version": 5, "resources": []}"#;
        assert!(matches!(
            parse("f", newer),
            Err(TerraformError::Version { found: 5, .. })
        ));
        assert!(matches!(
            parse("f", "{\"version\": 4, \"resources\": [{"),
            Err(TerraformError::Damaged { .. })
        ));
        assert!(matches!(
            parse("f", "{}"),
            Err(TerraformError::Damaged { .. })
        ));
    }
}
