//! What every resource kind of the management APIs shares, served once: its address and `self`
//! link, a read by id within the scope the request names (or what the real service answers for
//! one that does not exist), and the list in creation order with paging. Each API group's file
//! says only what is particular to its kinds.

use std::collections::BTreeMap;

use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use super::reply::{Api, Query, Reply, base, created, error, ok, page, required};
use super::state::Confluent;
use super::world::{Item, World};

/// How a kind's objects are found in the world: all of them, and one by id.
pub struct Store {
    pub all: for<'w> fn(&'w World) -> Vec<&'w Item>,
    pub one: for<'w> fn(&'w World, &str) -> Option<&'w Item>,
}

/// Which of a list's query parameters filter it, beyond its scope: (parameter, JSON pointer).
pub type Filters = &'static [(&'static str, &'static str)];

/// One resource kind of a management API.
pub struct Collection {
    /// Where the kind lives; one of them is at `{path}/{id}`.
    pub path: &'static str,
    pub api_version: &'static str,
    pub kind: &'static str,
    /// The query parameter a read names its scope with, and where an item's JSON names its own.
    pub scope: Option<(&'static str, &'static str)>,
    /// What the real service answers a read of an id that does not exist (in that scope).
    pub missing: fn(&str) -> Response,
    /// Whether its objects carry a `metadata.self` link (provider integrations do not).
    pub links: bool,
    /// What the kind adds to an object as the caller sees it, from the address it used.
    pub render: fn(Value, &str) -> Value,
}

/// A kind that adds nothing to its objects.
pub fn as_stored(v: Value, _base: &str) -> Value {
    v
}

/// An object with its `metadata.self` link.
pub fn with_self(mut v: Value, base: &str, path: &str) -> Value {
    v["metadata"]["self"] = json!(format!("{base}{path}"));
    v
}

/// The management 404 naming what was not found.
pub fn not_found(what: &str, id: &str) -> Response {
    error(
        Api::Management,
        StatusCode::NOT_FOUND,
        format!("{what} '{id}' was not found"),
    )
}

/// Items in the order they were made, as lists answer.
pub fn in_order<'a>(items: impl IntoIterator<Item = &'a Item>) -> Vec<&'a Item> {
    let mut items: Vec<&Item> = items.into_iter().collect();
    items.sort_by_key(|i| i.order);
    items
}

/// The item `id` of `items` when its JSON at `at` is `scope`; otherwise the 404 naming `what`.
pub fn scoped<'a>(
    items: &'a BTreeMap<String, Item>,
    id: &str,
    at: &str,
    scope: &str,
    what: &str,
) -> Result<&'a Item, Response> {
    items
        .get(id)
        .filter(|item| item.json.pointer(at).and_then(Value::as_str) == Some(scope))
        .ok_or_else(|| not_found(what, id))
}

impl Collection {
    /// The URL of one object, as `self` and `Location` give it.
    pub fn url(&self, base: &str, id: &str) -> String {
        format!("{base}{}/{id}", self.path)
    }

    /// An object as the caller sees it.
    pub fn view(&self, v: &Value, base: &str) -> Value {
        let id = v["id"].as_str().unwrap_or_default().to_string();
        let v = (self.render)(v.clone(), base);
        if self.links {
            with_self(v, base, &format!("{}/{id}", self.path))
        } else {
            v
        }
    }

    /// The scope a request names, which a scoped kind requires.
    fn scope_of<'q>(&self, q: &'q Query) -> Result<Option<(&'q str, &'static str)>, Response> {
        match self.scope {
            None => Ok(None),
            Some((param, at)) => Ok(Some((required(q, param)?, at))),
        }
    }

    fn in_scope(item: &Item, scope: Option<(&str, &str)>) -> bool {
        scope.is_none_or(|(value, at)| item.json.pointer(at).and_then(Value::as_str) == Some(value))
    }

    /// The object `id` (as looked up: `found`) in the scope the request names.
    pub fn find<'a>(
        &self,
        found: Option<&'a Item>,
        id: &str,
        q: &Query,
    ) -> Result<&'a Item, Response> {
        let scope = self.scope_of(q)?;
        found
            .filter(|item| Self::in_scope(item, scope))
            .ok_or_else(|| (self.missing)(id))
    }

    /// The answer to a create: the object as the caller sees it, its URL as `Location`.
    pub fn made(&self, status: StatusCode, v: &Value, base: &str) -> Reply {
        let id = v["id"].as_str().unwrap_or_default();
        created(status, self.view(v, base), &self.url(base, id))
    }

    /// Starts the asynchronous delete of the object `id` in the scope the request names: it
    /// shows `phase` until `settle` removes it.
    pub fn start_deleting(
        &self,
        items: &mut BTreeMap<String, Item>,
        id: &str,
        q: &Query,
        phase: &str,
    ) -> Result<(), Response> {
        let scope = self.scope_of(q)?;
        let item = items
            .get_mut(id)
            .filter(|item| Self::in_scope(item, scope))
            .ok_or_else(|| (self.missing)(id))?;
        item.start_deleting("/status/phase", phase);
        Ok(())
    }

    /// `GET {path}/{id}`.
    pub fn read(&self, found: Option<&Item>, id: &str, q: &Query, base: &str) -> Reply {
        let item = self.find(found, id, q)?;
        ok(StatusCode::OK, self.view(&item.json, base))
    }

    /// `GET {path}`: the objects in the scope the request names that `keep` keeps, in the order
    /// they were made, a page of them.
    pub fn list<'a>(
        &self,
        items: impl IntoIterator<Item = &'a Item>,
        q: &Query,
        base: &str,
        keep: impl Fn(&Value) -> bool,
    ) -> Reply {
        let scope = self.scope_of(q)?;
        let data = in_order(
            items
                .into_iter()
                .filter(|i| Self::in_scope(i, scope) && keep(&i.json)),
        )
        .into_iter()
        .map(|i| self.view(&i.json, base))
        .collect();
        page(base, self.path, q, self.api_version, self.kind, data)
    }

    /// `GET {path}` and `GET {path}/{id}` for a kind the organization's Cloud API key reads:
    /// the list filtered by `filters` (an exact match on each parameter given), and one by id.
    pub fn reads(
        &'static self,
        store: &'static Store,
        filters: Filters,
    ) -> (MethodRouter<Confluent>, MethodRouter<Confluent>) {
        let list = get(
            move |State(cc): State<Confluent>, headers: HeaderMap, Q(q): Q<Query>| async move {
                cc.cloud(&headers)?;
                let world = cc.world();
                self.list((store.all)(&world), &q, &base(&headers), |v| {
                    filters.iter().all(|(param, at)| {
                        q.get(*param).is_none_or(|wanted| {
                            v.pointer(at).and_then(Value::as_str) == Some(wanted.as_str())
                        })
                    })
                })
            },
        );
        let one = get(
            move |State(cc): State<Confluent>,
                  headers: HeaderMap,
                  Path(id): Path<String>,
                  Q(q): Q<Query>| async move {
                cc.cloud(&headers)?;
                let world = cc.world();
                self.read((store.one)(&world, &id), &id, &q, &base(&headers))
            },
        );
        (list, one)
    }
}
