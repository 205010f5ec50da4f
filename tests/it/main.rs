//! Every integration test, in one binary: linking the AWS SDK once instead of once per file
//! keeps a debug build of the tests to one link and a fraction of the disk.

mod common;

mod aws;
mod cli;
mod config;
mod confluent;
mod conformance;
mod contract;
mod deploy_sh;
mod doctor;
mod drift;
mod engine;
mod examples;
mod faults;
mod fleet;
mod fleet_state;
mod forget;
mod gc;
mod graph;
mod http;
mod labels;
mod limits;
mod marks;
mod official_driver;
mod orphans;
mod output;
mod preflight;
mod rerun;
mod resume;
mod secrets;
mod snapshots;
mod snowflake;
mod state;
mod tableflow;
mod takeover;
mod throttle;
