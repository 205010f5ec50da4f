//! Stacks found from their marks when their state is gone: every cloud is read (never written)
//! for what carries a mark, and a stack is an orphan of a state location when its marks say it
//! was recorded there, its expiry has passed, and that location records no state of it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::connect::Connected;
use crate::aws::{self, Aws};
use crate::confluent::{self, Confluent};
use crate::engine::NodeError;
use crate::error::Error;
use crate::snowflake::{self, Snowflake};
use crate::stack::Marker;

/// The AWS tags' namespace: what is tagged in it may be a mark.
const TAG_PREFIX: &str = "kickstart:";

/// One marked resource: the mark it carries and what it is, as a person would look it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub marker: Marker,
    pub what: String,
}

/// A cloud that could not be read: nothing can be said of its orphans, so none are named.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not look for marked resources in {cloud} ({cause}): the credentials must be allowed to list them (see `kickstart doctor`); nothing was deleted"
)]
pub struct DiscoveryError {
    pub cloud: &'static str,
    pub cause: String,
}

impl From<DiscoveryError> for Error {
    fn from(e: DiscoveryError) -> Self {
        Error::Preflight(e.to_string())
    }
}

/// Every marked resource the three clouds hold, read with list and describe calls only.
pub async fn discover(connected: &Connected) -> Result<Vec<Found>, Error> {
    let (confluent, aws, snowflake) = connected.clients();
    Ok(discover_in(confluent, aws, snowflake).await?)
}

/// [`discover`], given each cloud's client.
pub async fn discover_in(
    confluent: &Confluent,
    aws: &Aws,
    snowflake: &Snowflake,
) -> Result<Vec<Found>, DiscoveryError> {
    let failed = |cloud: &'static str| {
        move |e: NodeError| DiscoveryError {
            cloud,
            cause: e.to_string(),
        }
    };
    let (descriptions, tagged, comments) = tokio::try_join!(
        async {
            confluent::marked::descriptions(confluent)
                .await
                .map_err(failed("Confluent Cloud"))
        },
        async {
            aws::marked::tagged(aws, TAG_PREFIX)
                .await
                .map_err(failed("AWS"))
        },
        async {
            snowflake::marked::comments(snowflake)
                .await
                .map_err(failed("Snowflake"))
        },
    )?;
    let texts = descriptions.into_iter().chain(comments);
    let mut found: Vec<Found> = texts
        .filter_map(|(what, text)| {
            Some(Found {
                marker: Marker::parse(&text)?,
                what,
            })
        })
        .collect();
    found.extend(tagged.into_iter().filter_map(|(what, tags)| {
        let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        Some(Found {
            marker: Marker::from_tags(pairs)?,
            what,
        })
    }));
    Ok(found)
}

/// The stacks to collect from `place`, sorted: marked as recorded there, past their expiry at
/// `now`, and without a state in `recorded`. Only marks that name the place count, and all of
/// them must agree: a mark there without an expiry (a stack kept until deleted) keeps the
/// stack, the latest expiry decides (a resource a later create made carries the later one), and
/// a stack whose marks also name another place is left alone (which location is it recorded
/// under?). Marks that name no place (a description too short to hold it) decide nothing.
pub fn orphans(
    found: &[Found],
    place: &str,
    recorded: &BTreeSet<String>,
    now: Timestamp,
) -> Vec<String> {
    let mut by_stack: BTreeMap<&str, Vec<&Marker>> = BTreeMap::new();
    for f in found {
        by_stack.entry(&f.marker.stack).or_default().push(&f.marker);
    }
    by_stack
        .into_iter()
        .filter(|(stack, _)| !recorded.contains(*stack))
        .filter(|(_, marks)| {
            let placed: Vec<&&Marker> = marks.iter().filter(|m| m.state.is_some()).collect();
            let here = placed.iter().all(|m| m.state.as_deref() == Some(place));
            let expiries: Option<Vec<Timestamp>> = placed.iter().map(|m| m.expires_at).collect();
            let latest = expiries.and_then(|e| e.into_iter().max());
            !placed.is_empty() && here && latest.is_some_and(|at| at < now)
        })
        .map(|(stack, _)| stack.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACE: &str = "s3://states/ci/";

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn now() -> Timestamp {
        at("2026-12-03T12:00:00Z")
    }

    fn mark(stack: &str, expires: Option<&str>, state: Option<&str>) -> Found {
        Found {
            marker: Marker {
                stack: stack.into(),
                expires_at: expires.map(at),
                state: state.map(str::to_string),
            },
            what: format!("a resource of {stack}"),
        }
    }

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    #[test]
    fn an_expired_stack_of_the_place_without_state_is_an_orphan_once() {
        let found = [
            mark("ci_2", Some("2026-12-03T11:00:00Z"), Some(PLACE)),
            mark("ci_1", Some("2026-12-03T10:00:00Z"), Some(PLACE)),
            mark("ci_1", Some("2026-12-03T10:00:00Z"), Some(PLACE)),
        ];
        assert_eq!(orphans(&found, PLACE, &none(), now()), ["ci_1", "ci_2"]);
    }

    #[test]
    fn a_stack_with_a_state_is_no_orphan() {
        let found = [mark("ci_1", Some("2026-12-03T10:00:00Z"), Some(PLACE))];
        let recorded = BTreeSet::from(["ci_1".to_string()]);
        assert!(orphans(&found, PLACE, &recorded, now()).is_empty());
    }

    #[test]
    fn a_stack_not_yet_expired_or_never_expiring_is_kept() {
        let found = [
            mark("later", Some("2026-12-03T13:00:00Z"), Some(PLACE)),
            mark("forever", None, Some(PLACE)),
        ];
        assert!(orphans(&found, PLACE, &none(), now()).is_empty());
    }

    #[test]
    fn the_latest_expiry_of_a_stack_decides() {
        let found = [
            mark("ci_1", Some("2026-12-03T10:00:00Z"), Some(PLACE)),
            mark("ci_1", Some("2026-12-04T10:00:00Z"), Some(PLACE)),
        ];
        assert!(orphans(&found, PLACE, &none(), now()).is_empty());
    }

    #[test]
    fn one_mark_of_the_place_without_expiry_keeps_the_stack() {
        let found = [
            mark("ci_1", Some("2026-12-03T10:00:00Z"), Some(PLACE)),
            mark("ci_1", None, Some(PLACE)),
        ];
        assert!(orphans(&found, PLACE, &none(), now()).is_empty());
    }

    #[test]
    fn stacks_of_another_place_or_of_none_are_left_alone() {
        let found = [
            mark(
                "elsewhere",
                Some("2026-12-03T10:00:00Z"),
                Some("/home/ci/states/"),
            ),
            mark("nowhere", Some("2026-12-03T10:00:00Z"), None),
            mark("both", Some("2026-12-03T10:00:00Z"), Some(PLACE)),
            mark(
                "both",
                Some("2026-12-03T10:00:00Z"),
                Some("/home/ci/states/"),
            ),
        ];
        assert!(orphans(&found, PLACE, &none(), now()).is_empty());
    }

    #[test]
    fn marks_without_a_place_decide_nothing() {
        // A service account's description lost the place and the expiry to its length bound.
        let found = [
            mark("ci_1", Some("2026-12-03T10:00:00Z"), Some(PLACE)),
            mark("ci_1", None, None),
        ];
        assert_eq!(orphans(&found, PLACE, &none(), now()), ["ci_1"]);
    }

    #[test]
    fn an_expiry_equal_to_now_has_not_passed() {
        let found = [mark("ci_1", Some("2026-12-03T12:00:00Z"), Some(PLACE))];
        assert!(orphans(&found, PLACE, &none(), now()).is_empty());
    }
}
