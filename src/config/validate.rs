//! The checks serde cannot make: allowed values, names the clouds would refuse, references
//! between entries, cycles among statements, and the SQL files. The first problem is the answer.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::error::{ConfigError, Place};
use super::locate::Locator;
use super::model::{Acl, Config, SnowflakeTable, Statement};
use super::names;
use crate::cli::parse;

use super::allowed::*;

pub(super) struct Checker<'a> {
    path: &'a str,
    text: &'a str,
    locate: Locator<'a>,
}

type Checked = Result<(), ConfigError>;

impl<'a> Checker<'a> {
    pub fn new(path: &'a str, text: &'a str) -> Self {
        Checker {
            path,
            text,
            locate: Locator::new(text),
        }
    }

    fn err(
        &self,
        span: &Range<usize>,
        what: impl Into<String>,
        hint: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            at: Place::of(self.path, self.text, span),
            what: what.into(),
            hint: hint.into(),
        }
    }

    /// Every check, then the SQL of each statement by key (`sql_file` read from `dir`).
    pub fn check(
        &self,
        config: &Config,
        dir: &Path,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        self.stack(config)?;
        self.service_accounts(config)?;
        self.topics(config)?;
        self.connectors(config)?;
        self.statements(config)?;
        self.cycles(config)?;
        self.rotation(config)?;
        config
            .statements
            .iter()
            .map(|(key, statement)| Ok((key.clone(), self.sql(key, statement, dir)?)))
            .collect()
    }

    fn one_of(&self, value: &Spanned<String>, what: &str, allowed: &[&str]) -> Checked {
        let v = value.get_ref();
        if allowed.contains(&v.as_str()) {
            return Ok(());
        }
        let hint = match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
            Some(a) => format!("write `{a}` (in capitals)"),
            None => format!("write one of {}", list(allowed.iter())),
        };
        Err(self.err(&value.span(), format!("`{v}` is not a {what}"), hint))
    }

    fn name(
        &self,
        span: &Range<usize>,
        what: &str,
        name: &str,
        rule: fn(&str) -> Result<(), String>,
    ) -> Checked {
        rule(name).map_err(|hint| {
            self.err(
                span,
                format!("{what} `{name}` is not a name the cloud accepts"),
                hint,
            )
        })
    }

    fn stack(&self, config: &Config) -> Checked {
        if let Some(name) = &config.stack.name {
            parse::stack_name(name.get_ref()).map_err(|hint| {
                self.err(
                    &name.span(),
                    format!("stack name `{}` is refused", name.get_ref()),
                    hint,
                )
            })?;
        }
        if let Some(region) = &config.stack.region {
            parse::region(region.get_ref()).map_err(|hint| {
                self.err(
                    &region.span(),
                    format!("`{}` is not an AWS region", region.get_ref()),
                    hint,
                )
            })?;
        }
        let confluent = &config.confluent;
        self.one_of(
            &confluent.environment.stream_governance,
            "Stream Governance package",
            GOVERNANCE,
        )?;
        self.one_of(&confluent.cluster.kind, "cluster type", CLUSTER_TYPES)?;
        self.one_of(
            &confluent.cluster.availability,
            "cluster availability",
            AVAILABILITY,
        )?;
        let cfu = &confluent.flink.max_cfu;
        if !MAX_CFU.contains(cfu.get_ref()) {
            return Err(self.err(
                &cfu.span(),
                format!("{} is not a compute pool size", cfu.get_ref()),
                format!("write one of {}", list(MAX_CFU.iter())),
            ));
        }
        Ok(())
    }

    fn service_accounts(&self, config: &Config) -> Checked {
        for (key, account) in &config.service_accounts {
            let span = self.locate.key(&["service_accounts", key]);
            self.name(&span, "service account", key, names::service_account)?;
            if OWN_ACCOUNTS.contains(&key.as_str()) {
                return Err(self.err(
                    &span,
                    format!("`{key}` is an account the stack makes itself"),
                    format!(
                        "give the client account another key; the stack's own are {}",
                        OWN_ACCOUNTS.join(", ")
                    ),
                ));
            }
            let mut seen: Vec<(String, String, String)> = Vec::new();
            for (i, acl) in account.acls.iter().enumerate() {
                let index = i.to_string();
                let at = self
                    .locate
                    .value(&["service_accounts", key, "acls", &index]);
                self.acl(acl, &at)?;
                // The stack names an ACL by these, `-` read as `_`: two that agree are one node.
                let on = [
                    (&acl.topic, "topic"),
                    (&acl.group, "group"),
                    (&acl.cluster, "cluster"),
                ];
                let Some((name, kind)) = on.iter().find_map(|(v, k)| Some((v.as_ref()?, *k)))
                else {
                    continue;
                };
                let same = (
                    acl.operation.get_ref().to_ascii_uppercase(),
                    kind.to_string(),
                    name.get_ref().replace('-', "_"),
                );
                if seen.contains(&same) {
                    return Err(self.err(
                        &at,
                        format!(
                            "account `{key}` is given {} on {kind} `{}` twice",
                            same.0,
                            name.get_ref()
                        ),
                        "remove one of them (names that differ only in `-` and `_` count as the same here)",
                    ));
                }
                seen.push(same);
            }
        }
        Ok(())
    }

    fn acl(&self, acl: &Acl, at: &Range<usize>) -> Checked {
        self.one_of(&acl.operation, "Kafka ACL operation", OPERATIONS)?;
        let on: Vec<&Spanned<String>> = [&acl.topic, &acl.group, &acl.cluster]
            .into_iter()
            .flatten()
            .collect();
        if on.len() != 1 {
            return Err(self.err(
                at,
                format!(
                    "an ACL is on exactly one resource, and this one names {}",
                    on.len()
                ),
                "give one of topic = \"...\", group = \"...\" or cluster = \"kafka-cluster\"",
            ));
        }
        if let Some(cluster) = &acl.cluster
            && cluster.get_ref() != "kafka-cluster"
        {
            return Err(self.err(
                &cluster.span(),
                format!("`{}` is not the cluster resource's name", cluster.get_ref()),
                "write cluster = \"kafka-cluster\", the only name Kafka's cluster resource has",
            ));
        }
        if let Some(topic) = &acl.topic {
            // `{stack}` stands for the stack name, which is itself a good topic name.
            let named = topic.get_ref().replace("{stack}", "stack");
            names::topic(&named).map_err(|hint| {
                self.err(
                    &topic.span(),
                    format!("ACL topic `{}` is not a topic name", topic.get_ref()),
                    hint,
                )
            })?;
        }
        Ok(())
    }

    fn topics(&self, config: &Config) -> Checked {
        let mut tables: BTreeMap<String, (String, Range<usize>)> = BTreeMap::new();
        for (name, topic) in &config.topics {
            self.name(
                &self.locate.key(&["topics", name]),
                "topic",
                name,
                names::topic,
            )?;
            if let Some(partitions) = &topic.partitions
                && !(1..=MAX_PARTITIONS).contains(partitions.get_ref())
            {
                return Err(self.err(
                    &partitions.span(),
                    format!("{} partitions is out of range", partitions.get_ref()),
                    format!("write a number from 1 to {MAX_PARTITIONS}"),
                ));
            }
            if let Some(maker) = &topic.made_by
                && !config.statements.contains_key(maker.get_ref())
            {
                return Err(self.err(
                    &maker.span(),
                    format!(
                        "topic `{name}` is made by `{}`, which is not in [statements]",
                        maker.get_ref()
                    ),
                    missing_hint(config.statements.keys(), "statements", maker.get_ref()),
                ));
            }
            let Some(tableflow) = &topic.tableflow else {
                continue;
            };
            if tableflow.table_formats.is_empty() {
                return Err(self.err(
                    &self
                        .locate
                        .value(&["topics", name, "tableflow", "table_formats"]),
                    "Tableflow needs at least one table format",
                    "write table_formats = [\"ICEBERG\"]",
                ));
            }
            for format in &tableflow.table_formats {
                self.one_of(format, "Tableflow table format", TABLE_FORMATS)?;
            }
            if let Some(mode) = &tableflow.error_handling {
                self.one_of(mode, "Tableflow error handling mode", ERROR_HANDLING)?;
            }
            let table = match &tableflow.snowflake_table {
                None | Some(SnowflakeTable::Enabled(false)) => continue,
                Some(SnowflakeTable::Enabled(true)) => (
                    name.clone(),
                    self.locate
                        .value(&["topics", name, "tableflow", "snowflake_table"]),
                ),
                Some(SnowflakeTable::Named(table)) => (table.get_ref().clone(), table.span()),
            };
            if !tableflow
                .table_formats
                .iter()
                .any(|f| f.get_ref() == "ICEBERG")
            {
                return Err(self.err(
                    &table.1,
                    "a Snowflake table reads Tableflow's Iceberg tables, and this topic has none",
                    "add \"ICEBERG\" to table_formats, or remove snowflake_table",
                ));
            }
            names::snowflake_table(&table.0).map_err(|hint| {
                self.err(
                    &table.1,
                    format!("`{}` is not a Snowflake table name", table.0),
                    format!("{hint}; write snowflake_table = \"NAME\""),
                )
            })?;
            if let Some((other, _)) = tables.get(&table.0.to_ascii_uppercase()) {
                return Err(self.err(
                    &table.1,
                    format!("Snowflake table `{}` is also the table of topic `{other}` (Snowflake names ignore case)", table.0),
                    "give one of them another name with snowflake_table = \"NAME\"",
                ));
            }
            tables.insert(table.0.to_ascii_uppercase(), (name.clone(), table.1));
        }
        if !config.topics.values().any(|t| t.tableflow.is_some()) {
            return Err(self.err(
                &self.locate.key(&["topics"]),
                "no topic has Tableflow, and the Snowflake side reads Tableflow's tables",
                "add a [topics.NAME.tableflow] table with table_formats = [\"ICEBERG\"] to a topic",
            ));
        }
        Ok(())
    }

    fn connectors(&self, config: &Config) -> Checked {
        for (name, connector) in &config.connectors {
            self.name(
                &self.locate.key(&["connectors", name]),
                "connector",
                name,
                names::connector,
            )?;
            let topic = &connector.topic;
            match config.topics.get(topic.get_ref()) {
                None => {
                    return Err(self.err(
                        &topic.span(),
                        format!(
                            "connector `{name}` writes `{}`, which is not in [topics]",
                            topic.get_ref()
                        ),
                        missing_hint(config.topics.keys(), "topics", topic.get_ref()),
                    ));
                }
                Some(t) if t.made_by.is_some() => {
                    let maker = t
                        .made_by
                        .as_ref()
                        .map(|m| m.get_ref().as_str())
                        .unwrap_or_default();
                    return Err(self.err(
                        &topic.span(),
                        format!(
                            "connector `{name}` writes `{}`, which statement `{maker}` makes",
                            topic.get_ref()
                        ),
                        "point the connector at a topic kickstart creates (one without made_by)",
                    ));
                }
                Some(_) => {}
            }
            self.one_of(&connector.format, "connector output format", FORMATS)?;
            if *connector.tasks.get_ref() < 1 {
                return Err(self.err(
                    &connector.tasks.span(),
                    "a connector runs at least one task",
                    "write tasks = 1",
                ));
            }
            for (field, value) in [
                ("class", &connector.class),
                ("quickstart", &connector.quickstart),
            ] {
                if value.get_ref().trim().is_empty() {
                    return Err(self.err(
                        &value.span(),
                        format!("{field} is empty"),
                        format!("write {field} = \"...\" (e.g. DatagenSource, STOCK_TRADES)"),
                    ));
                }
            }
            let account = &connector.service_account;
            if !config.service_accounts.contains_key(account.get_ref()) {
                return Err(self.err(
                    &account.span(),
                    format!(
                        "connector `{name}` runs as `{}`, which is not in [service_accounts]",
                        account.get_ref()
                    ),
                    missing_hint(
                        config.service_accounts.keys(),
                        "service_accounts",
                        account.get_ref(),
                    ),
                ));
            }
        }
        Ok(())
    }

    fn statements(&self, config: &Config) -> Checked {
        for (key, statement) in &config.statements {
            self.name(
                &self.locate.key(&["statements", key]),
                "statement key",
                key,
                names::statement_key,
            )?;
            if let Some(prefix) = &statement.name_prefix {
                self.name(
                    &prefix.span(),
                    "statement name prefix",
                    prefix.get_ref(),
                    names::statement_prefix,
                )?;
            }
            for read in &statement.reads {
                if !config.topics.contains_key(read.get_ref()) {
                    return Err(self.err(
                        &read.span(),
                        format!(
                            "statement `{key}` reads `{}`, which is not in [topics]",
                            read.get_ref()
                        ),
                        missing_hint(config.topics.keys(), "topics", read.get_ref()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A statement that waits, through the topics it reads, for itself would never start.
    fn cycles(&self, config: &Config) -> Checked {
        let mut edges: BTreeMap<&str, Vec<Edge<'_>>> = BTreeMap::new();
        for (key, statement) in &config.statements {
            let out = edges.entry(key).or_default();
            for read in &statement.reads {
                let maker = config
                    .topics
                    .get(read.get_ref())
                    .and_then(|t| t.made_by.as_ref());
                if let Some(maker) = maker {
                    out.push(Edge {
                        topic: read.get_ref(),
                        at: read.span(),
                        maker: maker.get_ref(),
                    });
                }
            }
        }
        for start in edges.keys() {
            let mut route = Vec::new();
            if back_to(start, start, &edges, &mut BTreeSet::new(), &mut route) {
                let mut what = String::new();
                for (i, (from, edge)) in route.iter().enumerate() {
                    if i == 0 {
                        what.push_str(&format!("statement `{from}` reads `{}`", edge.topic));
                    } else {
                        what.push_str(&format!(", which reads `{}`", edge.topic));
                    }
                    what.push_str(&format!(", made by `{}`", edge.maker));
                }
                return Err(self.err(
                    &route[0].1.at,
                    format!("{what}: a cycle, so none of them would ever start"),
                    "remove one of these reads, or have a connector write one of these topics instead of a statement",
                ));
            }
        }
        Ok(())
    }

    fn rotation(&self, config: &Config) -> Checked {
        self.in_range(&config.rotation.day_count, parse::day_count)?;
        self.in_range(&config.rotation.keys_to_retain, parse::keys_to_retain)
    }

    /// A number checked by the same rule as the flag that overrides it.
    fn in_range(
        &self,
        value: &Option<Spanned<u32>>,
        rule: fn(&str) -> Result<u32, String>,
    ) -> Checked {
        let Some(value) = value else { return Ok(()) };
        rule(&value.get_ref().to_string())
            .map(drop)
            .map_err(|hint| {
                self.err(
                    &value.span(),
                    format!("{} is out of range", value.get_ref()),
                    hint,
                )
            })
    }

    fn sql(&self, key: &str, statement: &Statement, dir: &Path) -> Result<String, ConfigError> {
        let sql = match (&statement.sql, &statement.sql_file) {
            (Some(sql), None) => (sql.get_ref().clone(), sql.span()),
            (None, Some(file)) => {
                let path = dir.join(file.get_ref());
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.err(
                        &file.span(),
                        format!("cannot read sql_file {} ({e})", path.display()),
                        format!("give a path relative to the directory of {}", self.path),
                    )
                })?;
                (text, file.span())
            }
            (Some(_), Some(file)) => {
                return Err(self.err(
                    &file.span(),
                    format!("statement `{key}` has both sql and sql_file"),
                    "keep one of them",
                ));
            }
            (None, None) => {
                return Err(self.err(
                    &self.locate.key(&["statements", key]),
                    format!("statement `{key}` has no SQL"),
                    "add sql = \"...\" or sql_file = \"PATH\" (relative to this file)",
                ));
            }
        };
        if sql.0.trim().is_empty() {
            return Err(self.err(
                &sql.1,
                format!("the SQL of statement `{key}` is empty"),
                "write the Flink SQL statement to run",
            ));
        }
        Ok(sql.0)
    }
}

struct Edge<'c> {
    topic: &'c str,
    at: Range<usize>,
    maker: &'c str,
}

/// Whether `start` is reachable from `node`; `route` then holds each step taken.
fn back_to<'c>(
    start: &str,
    node: &'c str,
    edges: &'c BTreeMap<&'c str, Vec<Edge<'c>>>,
    seen: &mut BTreeSet<&'c str>,
    route: &mut Vec<(&'c str, &'c Edge<'c>)>,
) -> bool {
    for edge in edges.get(node).map(Vec::as_slice).unwrap_or_default() {
        route.push((node, edge));
        if edge.maker == start
            || (seen.insert(edge.maker) && back_to(start, edge.maker, edges, seen, route))
        {
            return true;
        }
        route.pop();
    }
    false
}

fn list<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

fn missing_hint<'k>(keys: impl Iterator<Item = &'k String>, table: &str, name: &str) -> String {
    let known: Vec<String> = keys.map(|k| format!("`{k}`")).collect();
    if known.is_empty() {
        format!("add [{table}.{name}]")
    } else {
        format!("write one of {}, or add [{table}.{name}]", known.join(", "))
    }
}
