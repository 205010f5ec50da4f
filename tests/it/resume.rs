//! Crash and resume: the stand-ins hold the k-th change unanswered, the test kills the binary with
//! SIGKILL at that moment, and the next `create` must finish the stack with exactly one of each
//! resource, of every kind in all three clouds; `delete` then leaves nothing. Half the points are
//! held before the service sees the call, half after it carried the call out (the process dies
//! having changed something it never recorded). No hook in the tool: the stand-in holds.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::census;
use common::clouds::{self, emulators};
use common::{FULL, Test};
use local_cloud::FaultConfig;

/// Where a run is held: at local-cloud's emulators (Confluent, Snowflake) or at the AWS proxy.
#[derive(Clone, Copy, Debug)]
enum At {
    Emulators,
    Aws,
}

/// Whether the held call reached the service.
#[derive(Clone, Copy, Debug)]
enum Hold {
    Before,
    After,
}

fn faults(at: At) -> &'static local_cloud::Faults {
    match at {
        At::Emulators => &emulators().faults,
        At::Aws => &clouds::moto_proxy().faults,
    }
}

fn hold(at: At, step: Option<(Hold, u64)>) {
    let (hang_at, hold_after) = match step {
        None => (None, None),
        Some((Hold::Before, k)) => (Some(k), None),
        Some((Hold::After, k)) => (None, Some(k)),
    };
    faults(at).set(FaultConfig {
        hang_at,
        hold_after,
        ..FaultConfig::default()
    });
}

#[test]
fn a_create_killed_at_any_change_is_finished_by_the_next_with_one_of_each() {
    // Every run reaches AWS through the proxy, so AWS calls can be held too.
    let proxy = [("AWS_ENDPOINT_URL", clouds::moto_proxy().url.clone())];
    let run = |dir: Option<&std::path::Path>, command: &str| {
        let mut t = Test::new()
            .args([command])
            .args(FULL)
            .env(proxy[0].0, &proxy[0].1);
        if let Some(d) = dir {
            t = t.in_dir(d);
        }
        t.status(0).run()
    };
    // The account as the stand-ins start it (Snowflake's admin user and its roles, and the
    // Confluent Cloud API key, listed, and its owner's OrganizationAdmin binding).
    let pristine = census::shared();
    let account = [
        "snowflake User",
        "snowflake grants",
        "confluent api keys",
        "confluent role bindings",
    ];
    assert!(
        pristine
            .iter()
            .all(|(k, v)| v.is_empty() || account.contains(&k.as_str())),
        "{pristine:?}"
    );
    // One full create first: which changes reach each stand-in, and what a stack holds.
    hold(At::Emulators, None);
    hold(At::Aws, None);
    let (_, dir) = run(None, "create");
    let changes = [faults(At::Emulators).changes(), faults(At::Aws).changes()];
    std::thread::sleep(Duration::from_millis(500));
    let whole = census::counts(&census::shared());
    for kind in [
        "confluent clusters",
        "confluent topics",
        "confluent acls",
        "confluent connectors",
        "confluent compute pools",
        "confluent statements",
        "confluent tableflow topics",
        "confluent catalog integrations",
        "confluent provider integrations",
        "snowflake IcebergTable",
        "aws glue tables",
        "aws objects",
    ] {
        assert!(whole[kind] > 0, "a stack holds {kind}: {whole:?}");
    }
    run(Some(dir.path()), "delete");
    census::assert_back_to(&census::shared(), &pristine, "after the first delete");
    let totals = [changes[0].len() as u64, changes[1].len() as u64];
    assert!(totals[0] > 40 && totals[1] > 20, "changes: {totals:?}");

    // A spread over the whole create's changes: 12 at Confluent and Snowflake, 8 at AWS, each
    // held before or after the service in turn.
    let mut points: Vec<(At, u64)> = (0..12)
        .map(|i| (At::Emulators, 1 + i * (totals[0] - 1) / 11))
        .collect();
    points.extend((0..8).map(|i| (At::Aws, 1 + i * (totals[1] - 1) / 7)));
    let mut report = Vec::new();
    for (i, (at, k)) in points.into_iter().enumerate() {
        let how = if i % 2 == 0 {
            Hold::Before
        } else {
            Hold::After
        };
        let dir = tempfile::tempdir().unwrap();
        hold(at, Some((how, k)));
        let mut child = Command::new(env!("CARGO_BIN_EXE_kickstart"))
            .current_dir(dir.path())
            .args(["create"])
            .args(FULL)
            .envs(clouds::stand_in_env())
            .env(proxy[0].0, &proxy[0].1)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !faults(at).hanging() {
            assert!(
                Instant::now() < deadline,
                "change {k} at {at:?} was never reached"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before change {k} at {at:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let held = faults(at).changes()[k as usize - 1].clone();
        let point = format!(
            "change {k} ({:?} {}), held {how:?} the service",
            held.cloud, held.call
        );
        report.push(point.clone());
        hold(at, None);

        let (again, _) = run(Some(dir.path()), "create");
        let now = census::settled(census::shared, &whole);
        assert_eq!(
            census::counts(&now),
            whole,
            "after a kill at {point}:\n{now:?}\n{}",
            again.stderr
        );
        run(Some(dir.path()), "delete");
        let after = format!("after a kill at {point} and delete");
        census::assert_back_to(&census::shared(), &pristine, &after);
    }
    // The coverage, for the run's report: in the target directory, and with `--no-capture`.
    let coverage = format!("kill points:\n  {}\n", report.join("\n  "));
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("resume-kill-points.txt");
    std::fs::write(&file, &coverage).unwrap();
    eprint!("{coverage}");
}
