//! fcpm/v2 (compute pools, regions) and sql/v1 (statements, at the region's `http_endpoint`,
//! which is the emulator itself). Statements need a Flink API key of their environment.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::collection::{Collection, Store, as_stored, in_order, not_found, scoped, with_self};
use super::rbac;
use super::reply::{
    Api, Query, Reply, bad_field, base, basic_auth, body, conflict, created, error, forbidden,
    need, no_content, ok, one_of, page_body,
};
use super::state::{Caller, Confluent, flink_region_id};
use super::world::{SPEC_ENV, World, now_rfc3339};

/// The regions the emulator offers, as `GET /fcpm/v2/regions` lists them.
const REGIONS: &[(&str, &str, &str)] = &[
    ("AWS", "us-east-1", "N. Virginia (us-east-1)"),
    ("AWS", "us-east-2", "Ohio (us-east-2)"),
    ("AWS", "us-west-2", "Oregon (us-west-2)"),
    ("AWS", "eu-west-1", "Ireland (eu-west-1)"),
    ("AWS", "eu-central-1", "Frankfurt (eu-central-1)"),
    ("AWS", "ap-southeast-2", "Sydney (ap-southeast-2)"),
];

const POOL_STORE: Store = Store {
    all: |w| w.compute_pools.values().collect(),
    one: |w, id| w.compute_pools.get(id),
};

pub fn routes() -> Router<Confluent> {
    let (pools, pool) = POOLS.reads(&POOL_STORE, &[("spec.region", "/spec/region")]);
    let statements = "/sql/v1/organizations/{org}/environments/{env}/statements";
    Router::new()
        .route("/fcpm/v2/compute-pools", pools.post(create_pool))
        .route("/fcpm/v2/compute-pools/{id}", pool.delete(delete_pool))
        .route("/fcpm/v2/regions", get(list_regions))
        .route(statements, get(list_statements).post(create_statement))
        .route(
            &format!("{statements}/{{name}}"),
            get(get_statement).delete(delete_statement),
        )
}

/// A pool that does not exist (any more) reads 403 (`compute_pool/read_deleted_compute_pool.json`).
const POOLS: Collection = Collection {
    path: "/fcpm/v2/compute-pools",
    api_version: "fcpm/v2",
    kind: "ComputePool",
    scope: Some(("environment", SPEC_ENV)),
    missing: |id| forbidden(format!("The compute pool {id} was not found.")),
    links: true,
    render: as_stored,
};

async fn create_pool(State(cc): State<Confluent>, headers: HeaderMap, bytes: Bytes) -> Reply {
    cc.cloud(&headers)?;
    let v = body(Api::Management, &bytes)?;
    let name = need(&v, "/spec/display_name")?;
    let cloud = one_of(&v, "/spec/cloud", &["AWS", "GCP", "AZURE"])?;
    let region = need(&v, "/spec/region")?;
    let max_cfu = v
        .pointer("/spec/max_cfu")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad_field("/spec/max_cfu", "'/spec/max_cfu' is required (an integer)"))?;
    if ![5, 10, 20, 30, 40, 50].contains(&max_cfu) {
        return Err(bad_field(
            "/spec/max_cfu",
            "max_cfu must be one of 5, 10, 20, 30, 40, 50",
        ));
    }
    let env_id = need(&v, "/spec/environment/id")?;
    let mut world = cc.world();
    let env_crn = world
        .environments
        .get(env_id)
        .map(|e| e.json["metadata"]["resource_name"].clone())
        .ok_or_else(|| not_found("environment", env_id))?;
    if world.compute_pools.values().any(|p| {
        p.json["spec"]["environment"]["id"] == env_id && p.json["spec"]["display_name"] == name
    }) {
        return Err(error(
            Api::Management,
            StatusCode::CONFLICT,
            format!("compute pool '{name}' already exists"),
        ));
    }
    let b = base(&headers);
    let env_ref = super::refs::environment(&world, &b, env_id);
    let id = world.id("lfcp", 5);
    let now = now_rfc3339();
    let region_id = flink_region_id(cloud, region);
    let pool = json!({
        "api_version": "fcpm/v2", "kind": "ComputePool", "id": id,
        "metadata": {"resource_name": format!("{}/flink-region={region_id}/compute-pool={id}", env_crn.as_str().unwrap_or_default()), "created_at": now, "updated_at": now},
        "spec": {"display_name": name, "cloud": cloud, "region": region, "max_cfu": max_cfu, "environment": env_ref},
        "status": {"phase": "PROVISIONING", "current_cfu": 0},
    });
    let item = world.item(pool.clone());
    world.compute_pools.insert(id.clone(), item);
    POOLS.made(StatusCode::ACCEPTED, &pool, &b)
}

async fn delete_pool(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Q(q): Q<Query>,
) -> Reply {
    cc.cloud(&headers)?;
    let mut world = cc.world();
    POOLS.start_deleting(&mut world.compute_pools, &id, &q, "DEPROVISIONING")?;
    no_content()
}

async fn list_regions(State(cc): State<Confluent>, headers: HeaderMap, Q(q): Q<Query>) -> Reply {
    cc.cloud(&headers)?;
    let b = base(&headers);
    let data = REGIONS
        .iter()
        .filter(|(cloud, _, _)| q.get("cloud").is_none_or(|c| c == cloud))
        .filter(|(_, name, _)| q.get("region_name").is_none_or(|r| r == name))
        .map(|(cloud, name, display)| {
            let id = flink_region_id(cloud, name);
            json!({
                "api_version": "fcpm/v2", "kind": "Region", "id": id,
                "metadata": {"self": format!("{b}/fcpm/v2/regions/{id}")},
                "display_name": display, "cloud": cloud, "region_name": name,
                "http_endpoint": b, "private_http_endpoint": b,
            })
        })
        .collect();
    // The real regions list ends with `next: ""` (`flink_region/read_regions.json`), outside its
    // spec, which wants a URI: clients must take an empty `next` as the last page.
    let mut list = page_body(&b, "/fcpm/v2/regions", &q, "fcpm/v2", "Region", data)?;
    if list["metadata"].get("next").is_none() {
        list["metadata"]["next"] = json!("");
    }
    ok(StatusCode::OK, list)
}

/// Statements take a Flink API key (resource `{cloud}.{region}`) of the path's environment.
fn flink_key(cc: &Confluent, headers: &HeaderMap, org: &str, env: &str) -> Result<(), Response> {
    match cc.caller(headers, Api::Management)? {
        Caller::Resource {
            resource,
            environment,
        } if resource.contains('.') && environment.as_deref() == Some(env) => {}
        _ => {
            return Err(error(
                Api::Management,
                StatusCode::UNAUTHORIZED,
                "the SQL API needs a Flink API key of this environment",
            ));
        }
    }
    if uuid::Uuid::parse_str(org).is_err() {
        return Err(bad_field(
            "organization_id",
            "organization_id must be a UUID",
        ));
    }
    if org != cc.config.organization_id {
        return Err(error(
            Api::Management,
            StatusCode::FORBIDDEN,
            "not a member of that organization",
        ));
    }
    Ok(())
}

/// Running a statement takes a Flink role over the environment, and Assigner on the service
/// account it runs as unless that is the key's own owner; bindings count once propagated.
fn may_run(
    world: &World,
    headers: &HeaderMap,
    env: &str,
    principal: Option<&str>,
) -> Result<(), Response> {
    let owner = basic_auth(headers)
        .and_then(|(id, _)| world.keys.get(&id))
        .map(|k| k.owner.clone())
        .unwrap_or_default();
    let env_crn = world
        .environments
        .get(env)
        .and_then(|e| e.json["metadata"]["resource_name"].as_str())
        .unwrap_or_default();
    let user = format!("User:{owner}");
    let may = |roles: &[&str], crn: &str| rbac::allows(world, &user, roles, crn, |rb| rb.settled());
    let denied = |what: String| Err(error(Api::Management, StatusCode::FORBIDDEN, what));
    if !may(rbac::FLINK_USERS, env_crn) {
        return denied(format!(
            "{user} may not run statements in {env}: it needs FlinkDeveloper"
        ));
    }
    if let Some(sa) = principal.filter(|p| *p != owner) {
        let org = env_crn.split("/environment=").next().unwrap_or_default();
        if !may(&["Assigner"], &format!("{org}/service-account={sa}")) {
            return denied(format!(
                "{user} may not run statements as {sa}: it needs Assigner on it"
            ));
        }
    }
    Ok(())
}

/// A statement that does not exist, as recorded (`flink_statement/read_deleted_flink_statement.json`):
/// the Flink API's errors carry neither id nor code.
fn no_statement(name: &str) -> Response {
    let body = json!({"errors": [{
        "status": "404",
        "detail": format!("Statement resource={name} does not exist"),
        "source": {},
    }]});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

fn statement_name_ok(name: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 100 && name.split('.').all(label)
}

fn statement_view(v: &Value, base: &str) -> Value {
    let path = format!(
        "/sql/v1/organizations/{}/environments/{}/statements/{}",
        v["organization_id"].as_str().unwrap_or_default(),
        v["environment_id"].as_str().unwrap_or_default(),
        v["name"].as_str().unwrap_or_default()
    );
    with_self(v.clone(), base, &path)
}

async fn create_statement(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((org, env)): Path<(String, String)>,
    bytes: Bytes,
) -> Reply {
    flink_key(&cc, &headers, &org, &env)?;
    let v = body(Api::Management, &bytes)?;
    let name = need(&v, "/name")?;
    if !statement_name_ok(name) {
        return Err(bad_field(
            "/name",
            "name must be lowercase DNS labels separated by dots, at most 100 characters",
        ));
    }
    let sql = need(&v, "/spec/statement")?;
    let mut world = cc.world();
    may_run(
        &world,
        &headers,
        &env,
        v.pointer("/spec/principal").and_then(Value::as_str),
    )?;
    if let Some(pool) = v.pointer("/spec/compute_pool_id").and_then(Value::as_str) {
        scoped(&world.compute_pools, pool, SPEC_ENV, &env, "compute pool").map_err(|_| {
            bad_field(
                "/spec/compute_pool_id",
                format!("compute pool '{pool}' was not found in {env}"),
            )
        })?;
    }
    if let Some(principal) = v.pointer("/spec/principal").and_then(Value::as_str)
        && !world.service_accounts.contains_key(principal)
    {
        return Err(bad_field(
            "/spec/principal",
            format!("principal '{principal}' was not found"),
        ));
    }
    conflict(
        world
            .statements
            .contains_key(&(env.clone(), name.to_string())),
        format!("statement '{name}' already exists"),
    )?;
    let now = now_rfc3339();
    let uid = world.uuid();
    let statement = json!({
        "api_version": "sql/v1", "kind": "Statement",
        "metadata": {"created_at": now, "updated_at": now, "uid": uid, "resource_version": "1"},
        "name": name, "organization_id": org, "environment_id": env,
        "spec": {
            "statement": sql,
            "properties": v.pointer("/spec/properties").cloned().unwrap_or(json!({})),
            "compute_pool_id": v.pointer("/spec/compute_pool_id").cloned().unwrap_or(Value::Null),
            "principal": v.pointer("/spec/principal").cloned().unwrap_or(Value::Null),
            "stopped": v.pointer("/spec/stopped").cloned().unwrap_or(json!(false)),
        },
        "status": {"phase": "PENDING", "detail": ""},
    });
    let item = world.item(statement.clone());
    world
        .statements
        .insert((env.clone(), name.to_string()), item);
    let b = base(&headers);
    let view = statement_view(&statement, &b);
    let location = view["metadata"]["self"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    created(StatusCode::CREATED, view, &location)
}

async fn list_statements(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((org, env)): Path<(String, String)>,
    Q(q): Q<Query>,
) -> Reply {
    flink_key(&cc, &headers, &org, &env)?;
    let world = cc.world();
    let b = base(&headers);
    let items = in_order(
        world
            .statements
            .iter()
            .filter(|((e, _), _)| e == &env)
            .map(|(_, s)| s)
            .filter(|s| {
                q.get("spec.compute_pool_id")
                    .is_none_or(|p| s.json["spec"]["compute_pool_id"] == p.as_str())
            }),
    );
    let data: Vec<Value> = items
        .into_iter()
        .map(|s| statement_view(&s.json, &b))
        .collect();
    let path = format!("{b}/sql/v1/organizations/{org}/environments/{env}/statements");
    ok(
        StatusCode::OK,
        json!({"api_version": "sql/v1", "kind": "StatementList", "metadata": {"self": path}, "data": data}),
    )
}

async fn get_statement(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((org, env, name)): Path<(String, String, String)>,
) -> Reply {
    flink_key(&cc, &headers, &org, &env)?;
    let world = cc.world();
    let s = world
        .statements
        .get(&(env, name.clone()))
        .ok_or_else(|| no_statement(&name))?;
    ok(StatusCode::OK, statement_view(&s.json, &base(&headers)))
}

async fn delete_statement(
    State(cc): State<Confluent>,
    headers: HeaderMap,
    Path((org, env, name)): Path<(String, String, String)>,
) -> Reply {
    flink_key(&cc, &headers, &org, &env)?;
    let mut world = cc.world();
    // Deleting takes a while, shown as phase DELETING (`read_deleting_flink_statement.json`).
    world
        .statements
        .get_mut(&(env, name.clone()))
        .ok_or_else(|| no_statement(&name))?
        .start_deleting("/status/phase", "DELETING");
    Ok(axum::response::IntoResponse::into_response(
        StatusCode::ACCEPTED,
    ))
}

/// What a CTAS statement names: the table it makes, the table it reads, and whether it may find
/// its table already there (`IF NOT EXISTS`).
#[derive(Debug, PartialEq, Eq)]
pub struct Ctas {
    pub sink: String,
    pub source: String,
    pub if_not_exists: bool,
}

/// Reads `CREATE TABLE [IF NOT EXISTS] `x` ... FROM `y``, case as Flink SQL takes keywords (any).
pub fn ctas(sql: &str) -> Option<Ctas> {
    let sql = &without_comments(sql);
    let upper = sql.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    if words.first() != Some(&"CREATE") || words.get(1) != Some(&"TABLE") {
        return None;
    }
    let if_not_exists = words.get(2..5) == Some(&["IF", "NOT", "EXISTS"][..]);
    // The name after a keyword, unquoted or in backticks; offsets in `upper` match `sql`.
    let name_after = |from: usize, keyword: &str| -> Option<String> {
        let i = from + upper[from..].find(keyword)? + keyword.len();
        let rest = sql[i..].trim_start();
        let name = match rest.strip_prefix('`') {
            Some(quoted) => &quoted[..quoted.find('`')?],
            None => rest
                .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
                .next()?,
        };
        (!name.is_empty()).then(|| name.to_string())
    };
    let head = if if_not_exists { "EXISTS" } else { "TABLE" };
    let sink = name_after(0, head)?;
    let select = upper.find("SELECT")?;
    let source = name_after(select, "FROM")?;
    Some(Ctas {
        sink,
        source,
        if_not_exists,
    })
}

/// The SQL with its `-- ...` and `/* ... */` comments made spaces: Flink parses with Calcite,
/// which takes both anywhere between tokens, and Confluent's own examples of valid statements
/// start with a comment (docs.confluent.io, "Flink SQL Syntax in Confluent Cloud"). Comment marks
/// inside backticked names and quoted strings are text, not comments.
fn without_comments(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            (None, '`' | '\'') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '-') if chars.peek() == Some(&'-') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        break;
                    }
                }
                out.push('\n');
            }
            (None, '/') if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for skipped in chars.by_ref() {
                    if last == '*' && skipped == '/' {
                        break;
                    }
                    last = skipped;
                }
                out.push(' ');
            }
            (None, _) => out.push(c),
        }
    }
    out
}

/// Flink's refusal of a plain `CREATE TABLE` whose table exists (Confluent words it so).
pub fn table_exists(database: &str, table: &str, catalog: &str) -> String {
    format!("Table (or view) {database}.{table} already exists in Catalog {catalog}.")
}

#[cfg(test)]
mod sql_tests {
    use super::*;

    #[test]
    fn reads_both_ctas_forms_and_nothing_else() {
        let plain = ctas("CREATE TABLE `t` WITH ('a' = 'b') AS SELECT x FROM `s`;").unwrap();
        assert_eq!((plain.sink.as_str(), plain.source.as_str()), ("t", "s"));
        assert!(!plain.if_not_exists);
        let seed = "CREATE TABLE IF NOT EXISTS `stock_trades_with_totals`\nWITH (\n    'changelog.mode' = 'append'\n) AS\nSELECT \n    $rowtime AS `trade_timestamp`,\n    (`quantity` * `price`) AS total_price \nFROM \n    `stock_trades`;";
        let c = ctas(seed).unwrap();
        assert_eq!(c.sink, "stock_trades_with_totals");
        assert_eq!(c.source, "stock_trades");
        assert!(c.if_not_exists);
        assert_eq!(ctas("DROP TABLE IF EXISTS `t`;"), None);
    }

    #[test]
    fn comments_are_not_statement_text() {
        let commented = "-- the large orders\n/* made\n by a CTAS */ CREATE TABLE IF NOT EXISTS `big` AS\nSELECT `a--b`, '/*' AS c -- FROM `wrong`\nFROM /* here */ `orders`;";
        let c = ctas(commented).unwrap();
        assert_eq!((c.sink.as_str(), c.source.as_str()), ("big", "orders"));
        assert!(c.if_not_exists);
        assert_eq!(
            ctas("-- CREATE TABLE `t` AS SELECT x FROM `s`;\nSELECT 1;"),
            None
        );
    }
}
