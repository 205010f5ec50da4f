//! The Cloud API key's owner: a user (`u-…`), as a real organization's key belongs to a person,
//! who holds OrganizationAdmin from the start. Organization-wide creates need that role: without
//! it Confluent answers 403 `user_unauthorized` (the spec's `Failure` example). A test takes the
//! role away (and gives it back) at `/_local/confluent/owner-admin`, never journaled.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::config::ConfluentConfig;
use super::rbac;
use super::reply::failure;
use super::state::Confluent;
use super::world::{World, now_rfc3339};

const ORG_ADMIN: &str = "OrganizationAdmin";

fn org_crn(config: &ConfluentConfig) -> String {
    format!(
        "crn://confluent.cloud/organization={}",
        config.organization_id
    )
}

fn principal(config: &ConfluentConfig) -> String {
    format!("User:{}", config.owner)
}

/// The owner's OrganizationAdmin binding, in effect at once (the organization began with it).
fn binding(world: &mut World, config: &ConfluentConfig) -> (String, Value) {
    let id = world.id("rb", 5);
    let org = org_crn(config);
    let now = now_rfc3339();
    let json = json!({
        "api_version": "iam/v2", "kind": "RoleBinding", "id": id,
        "metadata": {"resource_name": format!("{org}/role-binding={id}"), "created_at": now, "updated_at": now},
        "principal": principal(config), "role_name": ORG_ADMIN, "crn_pattern": org,
    });
    (id, json)
}

/// The Cloud API key as `GET /iam/v2/api-keys/{id}` shows it, and its owner's admin binding.
pub fn seed(world: &mut World, config: &ConfluentConfig) {
    let org = &config.organization_id;
    let owner = &config.owner;
    let now = now_rfc3339();
    let key = json!({
        "api_version": "iam/v2", "kind": "ApiKey", "id": config.api_key,
        "metadata": {"resource_name": format!("crn://api.confluent.cloud/organization={org}/api-key={}", config.api_key), "created_at": now, "updated_at": now},
        "spec": {
            "display_name": "organization admin key", "description": "",
            // The owner reference as the spec's example writes a user's.
            "owner": {
                "id": owner, "api_version": "iam/v2", "kind": "User",
                "related": format!("https://api.confluent.cloud/iam/v2/users/{owner}"),
                "resource_name": format!("https://api.confluent.cloud/user={owner}"),
            },
        },
    });
    world.cloud_key = Some(world.item(key));
    let (id, json) = binding(world, config);
    let item = world.item(json);
    world.role_bindings.insert(id, item);
}

/// Whether `owner` (a user or service account id) may make organization-wide objects.
pub fn require_admin(world: &World, config: &ConfluentConfig, owner: &str) -> Result<(), Response> {
    let who = format!("User:{owner}");
    if rbac::allows(world, &who, &[ORG_ADMIN], &org_crn(config), |b| b.settled()) {
        return Ok(());
    }
    Err(failure(
        StatusCode::FORBIDDEN,
        Some("user_unauthorized"),
        format!(
            "The user '{owner}' is not allowed to access the 'organization' resource without the '{ORG_ADMIN}' role."
        ),
        json!({}),
    ))
}

pub fn routes() -> Router<Confluent> {
    Router::new().route(
        "/_local/confluent/owner-admin",
        axum::routing::delete(revoke).put(grant),
    )
}

/// Takes OrganizationAdmin away from the key's owner.
async fn revoke(State(cc): State<Confluent>) -> Response {
    let who = principal(&cc.config);
    let mut world = cc.world();
    world.role_bindings.retain(|_, rb| {
        !(rb.json["principal"] == who.as_str() && rb.json["role_name"] == ORG_ADMIN)
    });
    StatusCode::NO_CONTENT.into_response()
}

/// Gives it back (once).
async fn grant(State(cc): State<Confluent>) -> Response {
    let who = principal(&cc.config);
    let mut world = cc.world();
    let held = world
        .role_bindings
        .values()
        .any(|rb| rb.json["principal"] == who.as_str() && rb.json["role_name"] == ORG_ADMIN);
    if !held {
        let (id, json) = binding(&mut world, &cc.config);
        let item = world.item(json);
        world.role_bindings.insert(id, item);
    }
    StatusCode::NO_CONTENT.into_response()
}
