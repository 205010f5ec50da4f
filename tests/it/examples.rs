//! Every stack file in examples/stacks, end to end against the stand-ins, as a user would live
//! with it: create it, see a plan with nothing to do, edit the file (add a topic, rename one,
//! remove one), see a plan with exactly those changes, apply them, and delete it all, leaving
//! nothing in any of the three clouds.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::Test;
use common::census::{self, Census};
use common::clouds::{self, emulators};

/// What a run needs besides the file: no rotation flags, so that the file's rotation holds.
const FLAGS: &[&str] = &[
    "--profile=dev",
    "--confluent-api-key=CKEY123",
    "--confluent-api-secret=cloud-secret-do-not-print",
    "--snowflake-warehouse=COMPUTE_WH",
];

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stacks");

/// The file as edited, given its text and the directory it is in (for the SQL files beside it).
type Edit = Box<dyn Fn(&str, &Path) -> String>;

/// One example and the edit the test makes to it.
struct Example {
    file: &'static str,
    /// The AWS region the file names; the stand-ins' environment must not name another.
    region: &'static str,
    edit: Edit,
    /// Every line the plan of the edited file must show, and no other.
    changes: Vec<String>,
    /// Topics and Snowflake tables there before the edit and not after, and the reverse.
    gone: (Vec<&'static str>, Vec<&'static str>),
    new: (Vec<String>, Vec<String>),
    /// What the file sets, as the clouds must hold it after the first create.
    settings: Settings,
}

/// The file's settings as the Confluent and Snowflake emulators hold them.
struct Settings {
    stack: &'static str,
    governance: &'static str,
    /// Kind as the cmk API spells it, and availability.
    cluster: (&'static str, &'static str),
    max_cfu: u64,
    /// Name, quickstart, output format and tasks.
    connectors: &'static [(&'static str, &'static str, &'static str, &'static str)],
    /// A topic and what its Tableflow entry holds, as JSON text.
    tableflow: &'static [(&'static str, &'static str)],
    snowflake_tables: &'static [&'static str],
}

/// `text` with `from` (which must be there) replaced by `to`.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the example has no {from:?}");
    text.replacen(from, to, 1)
}

/// `text` without the part from `start` up to (not including) `end`.
fn cut(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    let to = from
        + text[from..]
            .find(end)
            .unwrap_or_else(|| panic!("no {end:?}"));
    format!("{}{}", &text[..from], &text[to..])
}

/// A topic kickstart makes, with Tableflow and a Snowflake table over it.
fn new_topic(name: &str) -> String {
    format!(
        "\n[topics.{name}]\npartitions = 3\n\n[topics.{name}.tableflow]\ntable_formats = [\"ICEBERG\"]\nsnowflake_table = true\n"
    )
}

/// two-quickstarts.toml with a topic `returns` added, the CTAS output `orders_large` renamed to
/// `to` (its statement is renamed with it, since a statement's SQL cannot change in place, and
/// so is the ACL that reads it), and the first pipeline's CTAS output removed with its statement.
fn two_quickstarts(to: &'static str) -> Example {
    let edit = move |text: &str, dir: &Path| {
        let sql = std::fs::read_to_string(dir.join("sql/orders_large.sql")).unwrap();
        let renamed = swap(&sql, "`orders_large`", &format!("`{to}`"));
        std::fs::write(dir.join(format!("sql/{to}.sql")), renamed).unwrap();
        let mut text = text.to_string();
        for (from, with) in [
            ("[topics.orders_large]", format!("[topics.{to}]")),
            (
                "[topics.orders_large.tableflow]",
                format!("[topics.{to}.tableflow]"),
            ),
            (
                "made_by = \"ctas_orders_large\"",
                format!("made_by = \"ctas_{to}\""),
            ),
            (
                "[statements.ctas_orders_large]",
                format!("[statements.ctas_{to}]"),
            ),
            ("sql/orders_large.sql", format!("sql/{to}.sql")),
            ("topic = \"orders_large\"", format!("topic = \"{to}\"")),
        ] {
            text = swap(&text, from, &with);
        }
        let text = cut(
            &text,
            "[topics.stock_trades_with_totals]",
            "# The second pipeline",
        );
        let text = cut(
            &text,
            "[statements.ctas_stock_trades_with_totals]",
            "# No name_prefix",
        );
        text + &new_topic("returns")
    };
    const TABLES: &str = "TWO_QUICKSTARTS_DATABASE.TWO_QUICKSTARTS_SCHEMA";
    let changes = [
        "create topic returns".to_string(),
        "create Tableflow on topic returns".into(),
        format!("create Snowflake Iceberg table {TABLES}.RETURNS"),
        format!("create Flink statement ctas_{to}"),
        format!("create topic {to} (made by a Flink statement)"),
        format!("create Tableflow on topic {to}"),
        format!("create Snowflake Iceberg table {TABLES}.{}", to.to_uppercase()),
        format!("create ACL: two_quickstarts_tableflow_app_consumer may READ topic {to}"),
        "delete Flink statement ctas_orders_large, known as ctas-orders-large-{uuid} {gone}"
            .into(),
        "delete topic orders_large (made by a Flink statement) {gone}".into(),
        "delete Tableflow on topic orders_large {gone}".into(),
        format!("delete Snowflake Iceberg table {TABLES}.ORDERS_LARGE {{gone}}"),
        "delete ACL: two_quickstarts_tableflow_app_consumer may READ topic orders_large {gone}"
            .into(),
        "delete Flink statement ctas_stock_trades_with_totals, known as ctas-stock-trades-with-totals-{uuid} {gone}".into(),
        "delete topic stock_trades_with_totals (made by a Flink statement) {gone}".into(),
        "delete Tableflow on topic stock_trades_with_totals {gone}".into(),
        format!("delete Snowflake Iceberg table {TABLES}.STOCK_TRADES_WITH_TOTALS {{gone}}"),
    ];
    let both = vec![to.to_string(), "returns".to_string()];
    Example {
        file: "two-quickstarts.toml",
        region: clouds::REGION,
        edit: Box::new(edit),
        changes: changes.into(),
        gone: (
            vec!["orders_large", "stock_trades_with_totals"],
            vec!["orders_large", "stock_trades_with_totals"],
        ),
        new: (both.clone(), both),
        settings: Settings {
            stack: "two_quickstarts",
            governance: "ESSENTIALS",
            cluster: ("Standard", "SINGLE_ZONE"),
            max_cfu: 10,
            connectors: &[
                ("SampleSourceConnector", "STOCK_TRADES", "AVRO", "1"),
                ("OrdersSourceConnector", "ORDERS", "JSON_SR", "1"),
            ],
            tableflow: &[("orders", "\"table_formats\":[\"ICEBERG\"]")],
            snowflake_tables: &[
                "orders",
                "orders_large",
                "stock_trades",
                "stock_trades_with_totals",
            ],
        },
    }
}

/// another-region.toml with a topic `signups` added, `searches` (which kickstart makes and a
/// client writes) renamed to `site_searches` with the ACLs naming it, and the CTAS output
/// removed with its statement.
fn another_region() -> Example {
    let edit = |text: &str, _: &Path| {
        let mut text = text.to_string();
        for (from, to) in [
            ("[topics.searches]", "[topics.site_searches]"),
            (
                "[topics.searches.tableflow]",
                "[topics.site_searches.tableflow]",
            ),
            ("topic = \"searches\"", "topic = \"site_searches\""),
            ("topic = \"searches\"", "topic = \"site_searches\""),
        ] {
            text = swap(&text, from, to);
        }
        let text = cut(&text, "# Made by the statement below", "[connectors.");
        let text = cut(&text, "[statements.ctas_user_pageviews]", "# A new key");
        text + &new_topic("signups")
    };
    let table = |name: &str| {
        format!("Snowflake Iceberg table KICKSTART_EU_DATABASE.KICKSTART_EU_SCHEMA.{name}")
    };
    let acl = |who: &str, op: &str, topic: &str| {
        format!("ACL: kickstart_eu_tableflow_app_{who} may {op} topic {topic}")
    };
    let changes = [
        "create topic signups".to_string(),
        "create Tableflow on topic signups".into(),
        format!("create {}", table("SIGNUPS")),
        "create topic site_searches".into(),
        "create Tableflow on topic site_searches".into(),
        format!("create {}", table("SITE_SEARCHES")),
        format!("create {}", acl("producer", "WRITE", "site_searches")),
        format!("create {}", acl("consumer", "READ", "site_searches")),
        "delete topic searches {gone}".into(),
        "delete Tableflow on topic searches {gone}".into(),
        format!("delete {} {{gone}}", table("SEARCHES")),
        format!("delete {} {{gone}}", acl("producer", "WRITE", "searches")),
        format!("delete {} {{gone}}", acl("consumer", "READ", "searches")),
        "delete Flink statement ctas_user_pageviews, known as user-pageviews-{uuid} {gone}".into(),
        "delete topic user_pageviews (made by a Flink statement) {gone}".into(),
        "delete Tableflow on topic user_pageviews {gone}".into(),
    ];
    let both = vec!["site_searches".to_string(), "signups".to_string()];
    Example {
        file: "another-region.toml",
        region: "eu-west-1",
        edit: Box::new(edit),
        changes: changes.into(),
        gone: (vec!["searches", "user_pageviews"], vec!["searches"]),
        new: (both.clone(), both),
        settings: Settings {
            stack: "kickstart_eu",
            governance: "ADVANCED",
            cluster: ("Enterprise", "MULTI_ZONE"),
            max_cfu: 20,
            connectors: &[("PageviewsSourceConnector", "PAGEVIEWS", "PROTOBUF", "2")],
            tableflow: &[
                ("pageviews", "\"retention_ms\":\"172800000\""),
                ("pageviews", "\"error_handling\":{\"mode\":\"SKIP\"}"),
                ("user_pageviews", "\"retention_ms\":\"86400000\""),
            ],
            snowflake_tables: &["page_views", "searches"],
        },
    }
}

const GONE: &str = "(no longer part of the stack)";

fn run(example: &Example) {
    let test = Test::new();
    let dir = test.dir().to_path_buf();
    copy_dir(Path::new(EXAMPLES), &dir);
    let path = dir.join(example.file);
    let config = format!("--config={}", path.display());
    let step = |command: &str| {
        Test::new()
            .in_dir(&dir)
            .without("AWS_REGION")
            .args([command, config.as_str()])
            .args(FLAGS)
            .status(0)
            .run()
            .0
    };
    let everything =
        || census::take_in(&emulators().url, &emulators().snowflake, &regions(example));
    let pristine = everything();

    step("create");
    let made = everything();
    assert_nothing_to_do(&step("plan").stdout, example.file);
    // The stack lives in the file's region, whatever the profile's.
    for (kind, here) in [("aws secrets", true), ("aws glue databases", true)] {
        for region in regions(example) {
            let named = match region {
                clouds::REGION => kind.to_string(),
                other => format!("{kind} in {other}"),
            };
            let holds = !made[&named].is_empty();
            assert_eq!(
                holds,
                here == (region == example.region),
                "{named}: {:?}",
                made[&named]
            );
        }
    }
    assert_settings(example, &made);
    holds(&made, &example.gone, true, "after the first create");
    holds(&made, &example.new, false, "after the first create");

    let edited = (example.edit)(&std::fs::read_to_string(&path).unwrap(), &dir);
    std::fs::write(&path, edited).unwrap();
    let plan = step("plan").stdout;
    // A statement's name ends in the UUID chosen when it was made.
    let uuid = regex::Regex::new(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}").unwrap();
    let shown: BTreeSet<String> = plan
        .lines()
        .filter(|l| !l.starts_with("plan: "))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .map(|l| uuid.replace_all(&l, "{uuid}").into_owned())
        .collect();
    let wanted: BTreeSet<String> = example
        .changes
        .iter()
        .map(|c| c.replace("{gone}", GONE))
        .collect();
    assert_eq!(
        shown,
        wanted,
        "{}: the plan of the edited file\nshows but should not: {:?}\nshould show but does not: {:?}\n{plan}",
        example.file,
        shown.difference(&wanted).collect::<Vec<_>>(),
        wanted.difference(&shown).collect::<Vec<_>>()
    );
    let count = |verb: &str| wanted.iter().filter(|c| c.starts_with(verb)).count();
    let summary = format!(
        "plan: {} to create, 0 to adopt, 0 to rotate, {} to delete, 0 to wait for, ",
        count("create "),
        count("delete ")
    );
    assert!(
        plan.contains(&summary),
        "{}: no {summary:?} in\n{plan}",
        example.file
    );

    step("create");
    let changed = everything();
    holds(&changed, &example.gone, false, "after the edit");
    holds(&changed, &example.new, true, "after the edit");
    assert_nothing_to_do(&step("plan").stdout, example.file);

    step("delete");
    let left = census::settled(everything, &census::counts(&pristine));
    census::assert_back_to(
        &left,
        &pristine,
        &format!("after deleting {}", example.file),
    );
}

/// Each setting of the file reached the cloud that holds it.
fn assert_settings(example: &Example, census: &Census) {
    let s = &example.settings;
    let base = &emulators().url;
    let read = |path: &str| {
        let (status, body) =
            census::get(base, path, clouds::CONFLUENT_KEY, clouds::CONFLUENT_SECRET);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    };
    let envs = read("/org/v2/environments");
    let env = (envs["data"].as_array().unwrap().iter())
        .find(|e| e["display_name"] == s.stack)
        .unwrap_or_else(|| panic!("no environment {} in {envs}", s.stack));
    assert_eq!(
        env["stream_governance_config"]["package"], s.governance,
        "{env}"
    );
    let id = env["id"].as_str().unwrap();
    let clusters = read(&format!("/cmk/v2/clusters?environment={id}"));
    let cluster = &clusters["data"][0]["spec"];
    assert_eq!(
        (
            &cluster["config"]["kind"],
            &cluster["availability"],
            &cluster["region"]
        ),
        (
            &s.cluster.0.into(),
            &s.cluster.1.into(),
            &example.region.into()
        ),
        "{cluster}"
    );
    let pools = read(&format!("/fcpm/v2/compute-pools?environment={id}"));
    let pool = &pools["data"][0]["spec"];
    assert_eq!(
        (&pool["max_cfu"], &pool["region"]),
        (&s.max_cfu.into(), &example.region.into()),
        "{pool}"
    );
    let lkc = clusters["data"][0]["id"].as_str().unwrap();
    for (name, quickstart, format, tasks) in s.connectors {
        let path = format!("/connect/v1/environments/{id}/clusters/{lkc}/connectors/{name}");
        let config = &read(&path)["config"];
        assert_eq!(
            (
                &config["quickstart"],
                &config["output.data.format"],
                &config["tasks.max"]
            ),
            (&(*quickstart).into(), &(*format).into(), &(*tasks).into()),
            "{config}"
        );
    }
    let tableflow = &census["confluent tableflow topics"];
    for (topic, holds) in s.tableflow {
        let named = format!("\"display_name\":\"{topic}\"");
        let entry = tableflow.iter().find(|t| t.contains(&named));
        assert!(
            entry.is_some_and(|e| e.contains(holds)),
            "Tableflow on {topic} holds {holds}: {entry:?}"
        );
    }
    let snowflake: Vec<&str> = (census["snowflake IcebergTable"].iter())
        .filter_map(|t| t.rsplit('.').next())
        .collect();
    for table in s.snowflake_tables {
        assert!(
            snowflake.contains(&table.to_ascii_uppercase().as_str()),
            "{table} in {snowflake:?}"
        );
    }
}

/// The stand-ins' own region, and the example's if it names another.
fn regions(example: &Example) -> Vec<&'static str> {
    let mut regions = vec![clouds::REGION, example.region];
    regions.dedup();
    regions
}

fn assert_nothing_to_do(plan: &str, file: &str) {
    let lines: Vec<&str> = plan.lines().collect();
    assert!(
        lines.len() == 1
            && lines[0].starts_with("plan: 0 to create, 0 to adopt, 0 to rotate, 0 to wait for, "),
        "{file}: a plan right after create has nothing to do, but says\n{plan}"
    );
}

/// Whether the Kafka topics and the Snowflake tables named are all there (`there`) or none is.
fn holds<S: AsRef<str>>(
    census: &Census,
    (topics, tables): &(Vec<S>, Vec<S>),
    there: bool,
    when: &str,
) {
    let kafka = &census["confluent topics"];
    for topic in topics.iter().map(AsRef::as_ref) {
        assert_eq!(
            kafka.iter().any(|t| t == topic),
            there,
            "{when}: topic {topic} in {kafka:?}"
        );
    }
    let snowflake = &census["snowflake IcebergTable"];
    for table in tables.iter().map(AsRef::as_ref) {
        let upper = table.to_ascii_uppercase();
        let found = snowflake
            .iter()
            .any(|t| t.rsplit('.').next() == Some(upper.as_str()));
        assert_eq!(
            found, there,
            "{when}: Snowflake table {table} in {snowflake:?}"
        );
    }
}

/// The example directory as a user would copy it: the stack files and the SQL they read.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn two_quickstarts_lives_through_create_edit_and_delete() {
    run(&two_quickstarts("orders_big"));
}

#[test]
fn another_region_lives_through_create_edit_and_delete() {
    run(&another_region());
}

/// The external volume reads the base path all Tableflow topics share from one of them: renaming
/// the one that sorts first must not make the volume, and all that depends on it, look new.
#[test]
fn renaming_the_first_tableflow_topic_plans_only_that_rename() {
    run(&two_quickstarts("big_orders"));
}

/// Every stack file in examples/stacks is valid as shipped, and has its end-to-end test above: a
/// new example without one fails here.
#[test]
fn every_example_is_valid_and_run_end_to_end() {
    let mut files: Vec<String> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    let tested = [another_region().file, two_quickstarts("orders_big").file];
    assert_eq!(
        files, tested,
        "the examples and the examples run end to end"
    );
    for file in files {
        let path = format!("{EXAMPLES}/{file}");
        let (run, _) = Test::new()
            .args(["validate", path.as_str()])
            .status(0)
            .run();
        assert!(
            run.stdout.starts_with(&format!("{path}: valid (")),
            "{}",
            run.stdout
        );
    }
}
