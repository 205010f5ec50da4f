//! A CI fleet, measured: 20 stacks with different names created at once against one set of
//! stand-ins whose Confluent organization limits requests (a token bucket shared by every run,
//! as the real organization-wide limit is), against one stack alone under the same limit. Then
//! the 20 are deleted at once. Prints figures; asserts only that every run succeeds.
//!
//!     cargo bench --bench fleet
//!     FLEET_CONFLUENT_LIMIT=40 cargo bench --bench fleet   # a tighter organization limit
//!
//! Needs moto in `.venv` (`./test` or `./sandbox` installs it).

use std::time::{Duration, Instant};

use local_cloud::FaultConfig;
use local_cloud::limits::{Limited, Limits, Rate};

mod common;

use common::{Stand, latency, run};

const STACKS: usize = 20;

/// Confluent publishes no figure for its organization-wide limit (only the 429 and its headers:
/// "not considered part of the API contract"), nor AWS for IAM's and Secrets Manager's
/// per-account ones, nor Snowflake for its 429s: these are met by a fleet (20 runs starting at
/// once) and not by one stack, which is the case worth measuring.
fn limit() -> FaultConfig {
    let confluent = std::env::var("FLEET_CONFLUENT_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0);
    FaultConfig {
        rate_limit_per_sec: confluent,
        rate_limit_burst: 40,
        limits: Limits {
            iam: Rate::new(20.0, 20),
            secrets_manager: Rate::new(50.0, 40),
            snowflake: Rate::new(50.0, 40),
        },
        ..latency()
    }
}

/// Runs `args` for every stack at once, each in its own folder; the wall time of them all.
fn all_at_once(stand: &Stand, dirs: &[tempfile::TempDir], verb: &str) -> Duration {
    let started = Instant::now();
    std::thread::scope(|s| {
        for (i, dir) in dirs.iter().enumerate() {
            let name = format!("fleet_{i:02}");
            s.spawn(move || {
                run(
                    stand,
                    dir.path(),
                    &[verb, "--stack-name", &name, "--output=json"],
                )
            });
        }
    });
    started.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks which benchmarks exist
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stand = runtime.block_on(Stand::with(limit()));
    let throttled = || stand.emulators.faults.throttled() + stand.proxy.faults.throttled();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    let solo_dir = tempfile::tempdir().unwrap();
    let (calls0, throttled0) = (stand.calls(), throttled());
    let solo = run(
        &stand,
        solo_dir.path(),
        &["create", "--stack-name", "fleet_solo", "--output=json"],
    );
    let (calls1, throttled1) = (stand.calls(), throttled());
    run(
        &stand,
        solo_dir.path(),
        &["delete", "--stack-name", "fleet_solo"],
    );

    let dirs: Vec<_> = (0..STACKS).map(|_| tempfile::tempdir().unwrap()).collect();
    let (calls2, throttled2) = (stand.calls(), throttled());
    let allowed =
        |which| stand.emulators.faults.allowed_by(which) + stand.proxy.faults.allowed_by(which);
    let allowed2: Vec<u64> = Limited::ALL.iter().map(|&w| allowed(w)).collect();
    let fleet = all_at_once(&stand, &dirs, "create");
    let allowed3: Vec<u64> = Limited::ALL.iter().map(|&w| allowed(w)).collect();
    let (calls3, throttled3) = (stand.calls(), throttled());
    let fleet_delete = all_at_once(&stand, &dirs, "delete");
    let (calls4, throttled4) = (stand.calls(), throttled());

    let limit = limit();
    println!(
        "{STACKS} stacks at once against one set of stand-ins: 50-150 ms per call; limited for the whole organization or account (calls/s, burst): Confluent {}/{}, IAM {}/{}, Secrets Manager {}/{}, Snowflake {}/{}",
        limit.rate_limit_per_sec,
        limit.rate_limit_burst,
        limit.limits.iam.per_sec,
        limit.limits.iam.burst,
        limit.limits.secrets_manager.per_sec,
        limit.limits.secrets_manager.burst,
        limit.limits.snowflake.per_sec,
        limit.limits.snowflake.burst,
    );
    println!(
        "one stack alone, create               {:>8.0} ms  ({} calls, {} throttled)",
        ms(solo.wall),
        calls1.0 - calls0.0,
        throttled1 - throttled0
    );
    println!(
        "{STACKS} stacks at once, create            {:>8.0} ms  ({} calls, {} throttled)",
        ms(fleet),
        calls3.0 - calls2.0,
        throttled3 - throttled2
    );
    println!(
        "ratio fleet / one stack               {:>8.2}x   (goal <= 1.5)",
        ms(fleet) / ms(solo.wall)
    );
    // However well the runs share, a limit lets a fleet's calls through no faster than its rate:
    // the calls it let through, less its burst, over its rate.
    let floor = Limited::ALL
        .iter()
        .zip(allowed3.iter().zip(&allowed2))
        .map(|(&which, (after, before))| {
            let rate = rate_of(&limit, which);
            let through = (after - before).saturating_sub(u64::from(rate.burst));
            let secs = match rate.per_sec > 0.0 {
                true => through as f64 / rate.per_sec,
                false => 0.0,
            };
            (secs * 1000.0, which, after - before)
        })
        .fold(
            (0.0, Limited::Confluent, 0),
            |a, b| if b.0 > a.0 { b } else { a },
        );
    println!(
        "the limits' own floor for the create   {:>8.0} ms  ({:?}: {} calls let through at {}/s); fleet / floor {:.2}x",
        floor.0,
        floor.1,
        floor.2,
        rate_of(&limit, floor.1).per_sec,
        ms(fleet) / floor.0.max(1.0)
    );
    println!(
        "{STACKS} stacks at once, delete            {:>8.0} ms  ({} calls, {} throttled)",
        ms(fleet_delete),
        calls4.0 - calls3.0,
        throttled4 - throttled3
    );
    let by =
        |which| stand.emulators.faults.throttled_by(which) + stand.proxy.faults.throttled_by(which);
    println!(
        "throttles met in all, by service: Confluent {}, IAM {}, Secrets Manager {}, Snowflake {}",
        by(Limited::Confluent),
        by(Limited::Iam),
        by(Limited::SecretsManager),
        by(Limited::Snowflake)
    );
}

fn rate_of(config: &FaultConfig, which: Limited) -> Rate {
    match which {
        Limited::Confluent => Rate::new(config.rate_limit_per_sec, config.rate_limit_burst),
        Limited::Iam => config.limits.iam,
        Limited::SecretsManager => config.limits.secrets_manager,
        Limited::Snowflake => config.limits.snowflake,
    }
}
