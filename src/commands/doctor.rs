//! `kickstart doctor`: before anything is made, whether the given credentials may build the
//! stack, per cloud, and for each permission that is missing, how to grant it. Only reads: the
//! same preflight as `create` (who we are, whether each cloud takes the credentials), then each
//! cloud's own check. Exit 0 when nothing is missing, 1 when something is, 2 on bad usage.

use crate::checks::Check;
use crate::cli::{OutputMode, RunArgs};
use crate::error::Error;
use crate::printer::Printer;
use crate::settings::{Needs, Settings};
use crate::stack::{self, Decl, Spec};
use crate::{aws, confluent, snowflake};

use super::connect::{self, Connected};
use super::declared::Declared;

pub async fn run(args: RunArgs, printer: &Printer) -> Result<(), Error> {
    // SHOW GRANTS needs no warehouse, so doctor does not ask for one.
    let settings = Settings::resolve(args, Needs { warehouse: false }, printer.mode())?;
    let connected = connect::connect(
        &settings.clouds,
        &settings.names,
        settings.rotation,
        settings.engine.wait_timeout,
    )
    .await?;
    let declared = declared(&settings, &connected);
    let checks = checks(&connected, &declared.decls).await;
    let missing = checks.iter().filter(|c| c.is_missing()).count();
    if printer.mode() == OutputMode::Json {
        for c in &checks {
            printer.json(&serde_json::json!({"event": "check", "check": c}));
        }
        printer.json(&serde_json::json!({"event": "summary", "command": "doctor", "missing": missing, "checks": checks.len()}));
    } else {
        let text: String = checks.iter().map(|c| format!("{}\n", c.line())).collect();
        printer.data(&text)?;
    }
    match missing {
        0 => Ok(()),
        count => Err(Error::Missing { count }),
    }
}

/// The stack as declared (no state: doctor asks about everything a first create makes).
pub fn declared(settings: &Settings, connected: &Connected) -> Declared {
    Declared::new(
        &settings.names,
        &settings.stackfile,
        Some(connected),
        None,
        stack::Marker::new(settings.names.stack()),
    )
}

/// Every cloud's checks, at once, in the order Confluent, AWS, Snowflake.
pub async fn checks(connected: &Connected, decls: &[Decl]) -> Vec<Check> {
    let (cc, aws, sf) = connected.clients();
    let aws_specs: Vec<&aws::kinds::Spec> = decls
        .iter()
        .filter(|d| !d.retired)
        .filter_map(|d| match &d.spec {
            Spec::Aws(s) => Some(s),
            _ => None,
        })
        .collect();
    let (c, a, s) = tokio::join!(
        confluent::doctor::check(cc),
        aws::doctor::check(aws, &aws_specs),
        snowflake::doctor::check(sf),
    );
    [c, a, s].concat()
}
