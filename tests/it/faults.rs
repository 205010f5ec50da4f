//! Faults on all three stand-ins at once (AWS's too, through the proxy in front of moto): added
//! latency, throttling and server errors in each API's own shape in place of the service's
//! answer, and, worse, answers lost after the service did the work (a 5xx or a cut connection).
//! Create then delete must succeed in 20 runs out of 20, each with its own seed; every create
//! must leave exactly one of each thing (a re-try adopts what a lost answer made), and every
//! delete must leave nothing in any of the three clouds.

use crate::common;

use std::time::Duration;

use common::Test;
use common::census::{self, Census};
use common::clouds::{self, OwnEmulators};
use local_cloud::confluent::Delays;
use local_cloud::snowflake::Snowflake;
use local_cloud::{FaultConfig, LocalCloud, aws_proxy};

fn faults(seed: u64, lost_answer_rate: f64) -> FaultConfig {
    FaultConfig {
        min_latency_ms: 2,
        max_latency_ms: 15,
        throttle_rate: 0.05,
        error_rate: 0.05,
        lost_answer_rate,
        seed,
        ..FaultConfig::default()
    }
}

async fn take(url: String, snowflake: Snowflake, expected: Option<census::Census>) -> Census {
    tokio::task::spawn_blocking(move || {
        let take = || census::take(&url, &snowflake);
        match expected {
            Some(e) => census::settled(take, &census::counts(&e)),
            None => take(),
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_and_delete_succeed_in_20_runs_of_20_with_one_of_each_and_nothing_left() {
    let own = OwnEmulators::start(Delays::uniform(Duration::from_millis(50)), faults(0, 0.0)).await;
    let emulators = &own.cloud;
    let moto = tokio::task::spawn_blocking(clouds::moto).await.unwrap();
    let addr = "127.0.0.1:0".parse().unwrap();
    let proxy = LocalCloud::start(addr, faults(0, 0.0), aws_proxy::router(&moto))
        .await
        .unwrap();
    let (url, sf) = (emulators.url(), own.snowflake.clone());
    let pristine = take(url.clone(), sf.clone(), None).await;

    // The first run's faults are all answers in place of the service's, which cannot make
    // anything twice: its stack is the measure of one of each for the runs that lose answers.
    let mut one_of_each: Option<Census> = None;
    let (mut injected, mut lost) = (0, 0);
    for run_no in 1..=20u64 {
        let rate = if run_no == 1 { 0.0 } else { 0.05 };
        emulators.faults.set(faults(run_no, rate));
        proxy.faults.set(faults(1000 + run_no, rate));
        let mut env = own.env();
        env.push(("AWS_ENDPOINT_URL", proxy.url()));
        let dir = tempfile::tempdir().unwrap();
        let with_faults = || Test::new().envs(env.clone());
        with_faults().whole_stack("create", Some(dir.path())).await;
        let made = take(url.clone(), sf.clone(), one_of_each.clone()).await;
        match &one_of_each {
            None => one_of_each = Some(made),
            Some(one) => assert_eq!(
                census::counts(&made),
                census::counts(one),
                "run {run_no} made a different stack:\n{made:?}\nlost answers: {:?}",
                lost_answers(emulators, &proxy)
            ),
        }
        with_faults().whole_stack("delete", Some(dir.path())).await;
        let left = take(url.clone(), sf.clone(), None).await;
        census::assert_back_to(&left, &pristine, &format!("after run {run_no}'s delete"));
        for journal in [&emulators.journal, &proxy.journal] {
            let calls = journal.calls();
            injected += calls.iter().filter(|c| c.injected).count();
            lost += calls.iter().filter(|c| c.answer_lost).count();
            journal.clear();
        }
    }
    assert!(
        injected > 100 && lost > 50,
        "the faults fired: {injected} answers in place of the service's, {lost} lost after it"
    );
}

fn lost_answers(emulators: &LocalCloud, proxy: &LocalCloud) -> Vec<String> {
    let mut calls = emulators.journal.calls();
    calls.extend(proxy.journal.calls());
    calls
        .iter()
        .filter(|c| c.answer_lost)
        .map(|c| format!("{:?} {} -> {}", c.cloud, c.call, c.status))
        .collect()
}
