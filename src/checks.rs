//! What `kickstart doctor` (and `create`'s preflight) finds of each permission the stack needs:
//! held, missing (with how to grant it), or not checkable. Each cloud's `doctor` module makes
//! these; the command prints them and decides the exit status.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    Held,
    /// `grant` says what to do, in the cloud's own terms.
    Missing {
        grant: String,
    },
    /// The cloud would not say (an endpoint that does not serve the check, a check the
    /// credentials may not run): neither held nor missing.
    Unchecked {
        why: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub cloud: &'static str,
    /// The permission, as a person reads it.
    pub what: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

impl Check {
    pub fn held(cloud: &'static str, what: impl Into<String>) -> Self {
        Check {
            cloud,
            what: what.into(),
            verdict: Verdict::Held,
        }
    }

    pub fn missing(cloud: &'static str, what: impl Into<String>, grant: impl Into<String>) -> Self {
        Check {
            cloud,
            what: what.into(),
            verdict: Verdict::Missing {
                grant: grant.into(),
            },
        }
    }

    pub fn unchecked(cloud: &'static str, what: impl Into<String>, why: impl Into<String>) -> Self {
        Check {
            cloud,
            what: what.into(),
            verdict: Verdict::Unchecked { why: why.into() },
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self.verdict, Verdict::Missing { .. })
    }

    /// One line: the cloud, what, and how to grant it (or why it could not be checked).
    pub fn line(&self) -> String {
        match &self.verdict {
            Verdict::Held => format!("ok       {}: {}", self.cloud, self.what),
            Verdict::Missing { grant } => {
                format!("missing  {}: {}: {grant}", self.cloud, self.what)
            }
            Verdict::Unchecked { why } => {
                format!(
                    "unknown  {}: {}: could not check: {why}",
                    self.cloud, self.what
                )
            }
        }
    }
}
