//! Each problem a stack file can have: the message names the file, line and column of the value
//! at fault, and says what to write instead.

use std::path::Path;

use super::*;

/// The seed's CTAS, as the stack ran it when it was compiled in: the default file must say
/// exactly the same.
const SEED_CTAS: &str = "CREATE TABLE IF NOT EXISTS `stock_trades_with_totals` WITH (\
'changelog.mode' = 'append', 'kafka.cleanup-policy' = 'delete', \
'kafka.producer.compression.type' = 'zstd', 'value.fields-include' = 'all') AS \
SELECT `$rowtime` AS `trade_timestamp`, `userid`, `side`, `symbol`, `quantity`, `price`, \
(`quantity` * `price`) AS total_price FROM `stock_trades`;";

const NAME: &str = "kickstart.toml";

/// The default file with `from` replaced by `to` (which must be there to replace).
fn edit(from: &str, to: &str) -> String {
    assert!(DEFAULT.contains(from), "the default has no {from:?}");
    DEFAULT.replacen(from, to, 1)
}

fn error(text: &str) -> String {
    error_in(text, Path::new("."))
}

fn error_in(text: &str, dir: &Path) -> String {
    match parse(NAME, text, dir) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// `file:line:column` of the `nth` (from 0) occurrence of `needle` in `text`.
fn place(text: &str, needle: &str, nth: usize) -> String {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {needle:?} #{nth}"))
        .0;
    let line = text[..offset].lines().count() + usize::from(text[..offset].ends_with('\n'));
    let line = line.max(1);
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    format!("{NAME}:{line}:{}:", text[start..offset].chars().count() + 1)
}

/// The error is one line, starts at `needle`, and says `what` and then `hint`.
fn assert_error(text: &str, needle: &str, what: &str, hint: &str) {
    assert_error_after(text, "", needle, what, hint);
}

/// As [`assert_error`], at the first `needle` after the first `anchor`.
fn assert_error_after(text: &str, anchor: &str, needle: &str, what: &str, hint: &str) {
    let message = error(text);
    assert!(!message.contains('\n'), "{message}");
    let from = text.find(anchor).unwrap_or_else(|| panic!("no {anchor:?}"));
    let nth = text
        .match_indices(needle)
        .position(|(i, _)| i >= from)
        .unwrap_or_else(|| panic!("no {needle:?} after {anchor:?}"));
    let at = place(text, needle, nth);
    assert!(message.starts_with(&at), "expected at {at}: {message}");
    let (said, to_do) = message
        .split_once("; ")
        .unwrap_or_else(|| panic!("no hint: {message}"));
    assert!(said.contains(what), "{what:?} not in {message}");
    assert!(to_do.contains(hint), "hint {hint:?} not in {message}");
}

#[test]
fn the_default_is_the_seed_stack() {
    let file = load(None).unwrap();
    let c = &file.config;
    assert_eq!(file.path, None);
    assert_eq!(
        c.stack.name.as_ref().unwrap().get_ref(),
        "tableflow_kickstarter"
    );
    assert_eq!(
        c.service_accounts.keys().collect::<Vec<_>>(),
        ["app_connector", "app_consumer", "app_producer"]
    );
    assert_eq!(
        c.topics.keys().collect::<Vec<_>>(),
        ["stock_trades", "stock_trades_with_totals"]
    );
    assert_eq!(
        c.connectors.keys().collect::<Vec<_>>(),
        ["SampleSourceConnector"]
    );
    assert_eq!(
        c.statements.keys().collect::<Vec<_>>(),
        ["ctas_stock_trades_with_totals"]
    );
    assert_eq!(file.sql["ctas_stock_trades_with_totals"], SEED_CTAS);
    assert_eq!(
        c.topics["stock_trades"]
            .partitions
            .as_ref()
            .map(|p| *p.get_ref()),
        Some(6)
    );
    assert_eq!(c.confluent.cluster.kind.get_ref(), "STANDARD");
    assert_eq!(
        c.rotation.day_count.as_ref().map(|d| *d.get_ref()),
        Some(30)
    );
}

#[test]
fn a_missing_file_says_how_to_get_one() {
    let message = load(Some(Path::new("/nonexistent/kickstart.toml")))
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("/nonexistent/kickstart.toml: cannot read it"),
        "{message}"
    );
    assert!(message.contains("kickstart init"), "{message}");
}

#[test]
fn syntax_errors_point_at_the_break() {
    let text = "[stack]\nname = \"tableflow\n";
    let message = error(text);
    assert!(message.starts_with(&format!("{NAME}:2:")), "{message}");
    assert!(message.contains("fix the TOML syntax"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn an_unknown_key_names_the_keys_that_are_known() {
    let text = edit("partitions = 6", "partitons = 6");
    assert_error(
        &text,
        "partitons",
        "unknown key `partitons`",
        "write one of `partitions`",
    );
    // The exact place, counted by hand: line 12, column 5.
    let text = "[stack]\nname = \"abc\"\n\n[confluent.cluster]\ntype = \"BASIC\"\n\n\n\n\n\n[rotation]\n    days = 3\n";
    let message = error(text);
    assert!(message.starts_with("kickstart.toml:12:5: unknown key `days`; write `day_count` or `keys_to_retain` (or remove it)"), "{message}");
}

#[test]
fn a_wrong_type_says_what_to_write() {
    let text = edit("partitions = 6", "partitions = \"six\"");
    assert_error(&text, "\"six\"", "wrong type", "a whole number");
    let text = edit("kafka_key = true\nacls", "kafka_key = \"yes\"\nacls");
    assert_error(&text, "\"yes\"", "wrong type", "true or false");
    let text = edit(
        "table_formats = [\"ICEBERG\"]\nsnowflake_table = true",
        "table_formats = [\"ICEBERG\"]\nsnowflake_table = 3",
    );
    assert_error_after(
        &text,
        "= 3",
        "3",
        "wrong type",
        "write true, false or the table's name in quotes",
    );
}

#[test]
fn a_missing_key_says_what_to_add() {
    let text = edit("topic = \"stock_trades\"\n", "");
    let message = error(&text);
    assert!(
        message.contains("missing `topic`; add `topic = ...`"),
        "{message}"
    );
}

#[test]
fn values_outside_their_lists_are_refused_with_the_list() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "stream_governance = \"ESSENTIALS\"",
            "stream_governance = \"BASIC\"",
            "\"BASIC\"",
            "not a Stream Governance package",
            "write one of ESSENTIALS, ADVANCED",
        ),
        (
            "type = \"STANDARD\"",
            "type = \"standard\"",
            "\"standard\"",
            "not a cluster type",
            "write `STANDARD` (in capitals)",
        ),
        (
            "type = \"STANDARD\"",
            "type = \"DEDICATED\"",
            "\"DEDICATED\"",
            "not a cluster type",
            "BASIC, STANDARD, ENTERPRISE",
        ),
        (
            "availability = \"SINGLE_ZONE\"",
            "availability = \"TWO\"",
            "\"TWO\"",
            "not a cluster availability",
            "SINGLE_ZONE, MULTI_ZONE",
        ),
        (
            "max_cfu = 10",
            "max_cfu = 15",
            "15",
            "not a compute pool size",
            "5, 10, 20, 30, 40, 50",
        ),
        (
            "operation = \"WRITE\", topic = \"stock_trades\" }",
            "operation = \"WRTE\", topic = \"stock_trades\" }",
            "\"WRTE\"",
            "not a Kafka ACL operation",
            "IDEMPOTENT_WRITE",
        ),
        (
            "format = \"AVRO\"",
            "format = \"XML\"",
            "\"XML\"",
            "not a connector output format",
            "AVRO, JSON_SR, PROTOBUF, JSON",
        ),
        (
            "table_formats = [\"ICEBERG\"]",
            "table_formats = [\"PARQUET\"]",
            "\"PARQUET\"",
            "not a Tableflow table format",
            "ICEBERG, DELTA",
        ),
        (
            "table_formats = [\"ICEBERG\"]",
            "table_formats = [\"ICEBERG\"]\nerror_handling = \"STOP\"",
            "\"STOP\"",
            "not a Tableflow error handling mode",
            "SUSPEND, SKIP, LOG",
        ),
        (
            "partitions = 6",
            "partitions = 0",
            "0\n",
            "0 partitions is out of range",
            "from 1 to 4096",
        ),
        (
            "partitions = 6",
            "partitions = 4097",
            "4097",
            "out of range",
            "from 1 to 4096",
        ),
        (
            "tasks = 1",
            "tasks = 0",
            "0\n",
            "at least one task",
            "tasks = 1",
        ),
        (
            "day_count = 30",
            "day_count = 0",
            "0 ",
            "out of range",
            "from 1 to 3650",
        ),
        (
            "keys_to_retain = 2",
            "keys_to_retain = 1",
            "1 ",
            "out of range",
            "from 2 to 10",
        ),
    ];
    for (from, to, at, what, hint) in cases {
        let text = edit(from, to);
        assert_error_after(&text, to, at, what, hint);
    }
}

#[test]
fn an_acl_names_exactly_one_resource_and_the_cluster_by_its_name() {
    let text = edit(
        "{ operation = \"WRITE\", topic = \"stock_trades\" },\n]",
        "{ operation = \"WRITE\", topic = \"stock_trades\", group = \"g\" },\n]",
    );
    assert_error(
        &text,
        "{ operation = \"WRITE\", topic = \"stock_trades\", group",
        "exactly one resource, and this one names 2",
        "cluster = \"kafka-cluster\"",
    );
    let text = edit("cluster = \"kafka-cluster\"", "cluster = \"kafka\"");
    assert_error(
        &text,
        "\"kafka\"",
        "not the cluster resource's name",
        "kafka-cluster",
    );
}

#[test]
fn names_the_clouds_would_refuse_are_refused_at_the_name() {
    let text = edit("name = \"tableflow_kickstarter\"", "name = \"Tableflow\"");
    assert_error(
        &text,
        "\"Tableflow\"",
        "stack name `Tableflow` is refused",
        "lowercase letters",
    );
    let text = edit("# region = \"us-east-1\"", "region = \"mars\"");
    assert_error(&text, "\"mars\"", "not an AWS region", "us-east-1");
    let text = edit(
        "[topics.stock_trades_with_totals]",
        "[topics.\"with totals\"]\n[topics.stock_trades_with_totals]",
    );
    assert_error(
        &text,
        "\"with totals\"",
        "topic `with totals`",
        "Kafka's rule",
    );
    let text = edit(
        "[connectors.SampleSourceConnector]",
        "[connectors.\"Sample/Source\"]",
    );
    assert_error(
        &text,
        "\"Sample/Source\"",
        "connector `Sample/Source`",
        "1 to 64 letters",
    );
    let text = edit(
        "[service_accounts.app_consumer]",
        "[service_accounts.AppConsumer]",
    );
    assert_error(
        &text,
        "AppConsumer",
        "service account `AppConsumer`",
        "lowercase letters",
    );
    let text = format!("{DEFAULT}\n[statements.Other]\nsql = \"SELECT 1\"\n");
    assert_error(
        &text,
        "Other",
        "statement key `Other`",
        "lowercase letters, digits, '-' or '_'",
    );
    let text = edit(
        "name_prefix = \"ctas-stock-trades-with-totals-\"",
        "name_prefix = \"ctas_totals\"",
    );
    assert_error(
        &text,
        "\"ctas_totals\"",
        "statement name prefix",
        "36-character UUID",
    );
    let long = format!("name_prefix = \"{}\"", "a".repeat(65));
    let text = edit("name_prefix = \"ctas-stock-trades-with-totals-\"", &long);
    assert_error(&text, "\"aaa", "statement name prefix", "1 to 64");
}

#[test]
fn snowflake_tables_need_iceberg_a_good_name_and_no_twin() {
    let text = edit(
        "table_formats = [\"ICEBERG\"]\nsnowflake_table = true",
        "table_formats = [\"DELTA\"]\nsnowflake_table = true",
    );
    assert_error_after(
        &text,
        "DELTA",
        "true",
        "Tableflow's Iceberg tables",
        "add \"ICEBERG\" to table_formats",
    );
    let text = edit(
        "snowflake_table = true",
        "snowflake_table = \"stock-trades\"",
    );
    assert_error(
        &text,
        "\"stock-trades\"",
        "not a Snowflake table name",
        "snowflake_table = \"NAME\"",
    );
    let text = edit(
        "[topics.stock_trades]",
        "[topics.trades-eu.tableflow]\nsnowflake_table = true\n\n[topics.stock_trades]",
    );
    assert_error_after(
        &text,
        "trades-eu",
        "true",
        "`trades-eu` is not a Snowflake table name",
        "unquoted identifier",
    );
    // The second topic's table, named as the first's in other letters.
    let text = edit(
        "[topics.stock_trades_with_totals.tableflow]\ntable_formats = [\"ICEBERG\"]\nsnowflake_table = true",
        "[topics.stock_trades_with_totals.tableflow]\ntable_formats = [\"ICEBERG\"]\nsnowflake_table = \"Stock_Trades\"",
    );
    assert_error(
        &text,
        "\"Stock_Trades\"",
        "also the table of topic `stock_trades`",
        "another name",
    );
}

#[test]
fn at_least_one_topic_has_tableflow() {
    let text = edit("[topics.stock_trades.tableflow]\ntable_formats = [\"ICEBERG\"]\nsnowflake_table = true\n", "")
        .replacen("[topics.stock_trades_with_totals.tableflow]\ntable_formats = [\"ICEBERG\"]\nsnowflake_table = true\n", "", 1);
    assert_error(
        &text,
        "topics",
        "no topic has Tableflow",
        "[topics.NAME.tableflow]",
    );
}

#[test]
fn references_name_what_exists() {
    let text = edit(
        "topic = \"stock_trades\"\nquickstart",
        "topic = \"trades\"\nquickstart",
    );
    assert_error(
        &text,
        "\"trades\"",
        "writes `trades`, which is not in [topics]",
        "write one of `stock_trades`, `stock_trades_with_totals`, or add [topics.trades]",
    );
    let text = edit(
        "topic = \"stock_trades\"\nquickstart",
        "topic = \"stock_trades_with_totals\"\nquickstart",
    );
    assert_error(
        &text,
        "\"stock_trades_with_totals\"",
        "which statement `ctas_stock_trades_with_totals` makes",
        "one without made_by",
    );
    let text = edit(
        "service_account = \"app_connector\"",
        "service_account = \"app_conector\"",
    );
    assert_error(
        &text,
        "\"app_conector\"",
        "runs as `app_conector`",
        "write one of `app_connector`",
    );
    let text = edit(
        "made_by = \"ctas_stock_trades_with_totals\"",
        "made_by = \"ctas_totals\"",
    );
    assert_error(
        &text,
        "\"ctas_totals\"",
        "not in [statements]",
        "write one of `ctas_stock_trades_with_totals`, or add [statements.ctas_totals]",
    );
    let text = edit("reads = [\"stock_trades\"]", "reads = [\"stock_trade\"]");
    assert_error(
        &text,
        "\"stock_trade\"",
        "reads `stock_trade`, which is not in [topics]",
        "write one of `stock_trades`",
    );
}

#[test]
fn a_cycle_is_named_at_the_read_that_closes_it() {
    let text = edit(
        "reads = [\"stock_trades\"]",
        "reads = [\"stock_trades\", \"stock_trades_with_totals\"]",
    );
    assert_error(
        &text,
        "\"stock_trades_with_totals\"",
        "statement `ctas_stock_trades_with_totals` reads `stock_trades_with_totals`, made by `ctas_stock_trades_with_totals`: a cycle",
        "remove one of these reads",
    );
    let two = format!(
        "{}\n[topics.b_out]\nmade_by = \"b\"\n\n[statements.b]\nreads = [\"stock_trades_with_totals\"]\nsql = \"SELECT 1\"\n",
        edit("reads = [\"stock_trades\"]", "reads = [\"b_out\"]")
    );
    assert_error_after(
        &two,
        "[statements.b]",
        "\"stock_trades_with_totals\"",
        "statement `b` reads `stock_trades_with_totals`, made by `ctas_stock_trades_with_totals`, which reads `b_out`, made by `b`: a cycle",
        "remove one",
    );
}

#[test]
fn a_statement_has_its_sql_inline_or_in_a_file_that_exists() {
    let both = edit(
        "reads = [\"stock_trades\"]",
        "reads = [\"stock_trades\"]\nsql_file = \"x.sql\"",
    );
    assert_error(
        &both,
        "\"x.sql\"",
        "has both sql and sql_file",
        "keep one of them",
    );
    let dir = tempfile::tempdir().unwrap();
    let start = DEFAULT.find("sql = \"\"\"").unwrap();
    let end = DEFAULT[start..].find(";\"\"\"").unwrap() + start + 4;
    let none = format!("{}{}", &DEFAULT[..start], &DEFAULT[end..]);
    assert_error(
        &none,
        "ctas_stock_trades_with_totals]",
        "has no SQL",
        "sql_file = \"PATH\"",
    );
    let from_file = format!(
        "{}sql_file = \"totals.sql\"{}",
        &DEFAULT[..start],
        &DEFAULT[end..]
    );
    let message = error_in(&from_file, dir.path());
    assert!(
        message.starts_with(&place(&from_file, "\"totals.sql\"", 0)),
        "{message}"
    );
    assert!(message.contains("cannot read sql_file"), "{message}");
    std::fs::write(dir.path().join("totals.sql"), "SELECT 1;").unwrap();
    let (_, sql) = parse(NAME, &from_file, dir.path()).unwrap();
    assert_eq!(sql["ctas_stock_trades_with_totals"], "SELECT 1;");
}

#[test]
fn the_stacks_own_accounts_and_a_repeated_acl_are_refused() {
    let text = format!("{DEFAULT}\n[service_accounts.app_manager]\nkafka_key = true\n");
    assert_error(
        &text,
        "app_manager]",
        "`app_manager` is an account the stack makes itself",
        "give the client account another key",
    );
    let twice = edit(
        "  { operation = \"WRITE\", topic = \"stock_trades\" },\n]",
        "  { operation = \"WRITE\", topic = \"stock_trades\" },\n  { operation = \"WRITE\", topic = \"stock-trades\" },\n]",
    );
    assert_error_after(
        &twice,
        "[service_accounts.app_producer]",
        "{ operation = \"WRITE\", topic = \"stock-trades\"",
        "account `app_producer` is given WRITE on topic `stock-trades` twice",
        "remove one of them",
    );
}
