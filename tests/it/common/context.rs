//! One context for the tests that drive the engine itself against the emulators: the cloud a test
//! is about runs for real against emulators of its own, the other clouds are stood in for with
//! recorded outputs, and the graph is the stack file's, built as `create` builds it. The clock,
//! the vault and the engine's options are the test's, so that rotation is a matter of days
//! advanced and every wait takes milliseconds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kickstart::clock::TestClock;
use kickstart::config::Stackfile;
use kickstart::confluent::{self, Confluent, ConfluentProvider};
use kickstart::engine::{
    Engine, Graph, Ledger, MemorySink, Options, Outcome, PollPolicy, Record, RetryPolicy, Silent,
};
use kickstart::settings::Rotation;
use kickstart::snowflake::{self, Admin, MemoryStore, SecretStore, Snowflake, SnowflakeProvider};
use kickstart::stack::{self, ByCloud, DEFAULT_STACK, Names};
use kickstart::state::{FileStore, StateDoc};
use kickstart::vault::Vault;
use local_cloud::{FaultConfig, LocalCloud};

use super::clouds::{self, CONFLUENT_KEY, CONFLUENT_SECRET, OwnEmulators};
use super::stand_in::StandIn;

/// The customer's AWS account and region, which `create` learns from AWS before it builds the
/// graph: the stand-in AWS has none to tell.
pub const AWS_ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// The cloud a test is about; the other two are stood in for.
enum Real {
    Confluent,
    Snowflake,
}

/// What a test asks of its context, before anything starts.
pub struct Setup {
    real: Real,
    stack_name: String,
    faults: FaultConfig,
    customer_aws: bool,
    confluent_secret: String,
    recorded: Vec<(&'static str, Record)>,
    stackfile: Option<Stackfile>,
}

impl Setup {
    fn new(real: Real) -> Setup {
        Setup {
            real,
            stack_name: DEFAULT_STACK.into(),
            faults: FaultConfig::default(),
            customer_aws: false,
            confluent_secret: CONFLUENT_SECRET.into(),
            recorded: Vec::new(),
            stackfile: None,
        }
    }

    pub fn stack_name(mut self, name: &str) -> Setup {
        self.stack_name = name.into();
        self
    }

    /// Faults the emulators inject from the first call on.
    pub fn faults(mut self, faults: FaultConfig) -> Setup {
        self.faults = faults;
        self
    }

    /// The emulators check roles and Glue tables in moto, as in the customer's account.
    pub fn customer_aws(mut self) -> Setup {
        self.customer_aws = true;
        self
    }

    /// The Cloud API secret the tool presents, when it is not the one the emulator accepts.
    pub fn confluent_secret(mut self, secret: &str) -> Setup {
        self.confluent_secret = secret.into();
        self
    }

    /// What a stood-in node records once made, for the real nodes that read it.
    pub fn recorded(mut self, node: &'static str, record: Record) -> Setup {
        self.recorded.push((node, record));
        self
    }

    /// The stack file the graph is built from, when not the embedded default.
    pub fn stackfile(mut self, file: Stackfile) -> Setup {
        self.stackfile = Some(file);
        self
    }

    pub async fn start(self) -> Context {
        let own = OwnEmulators::serve(clouds::delays(), self.faults, self.customer_aws).await;
        let clock = Arc::new(TestClock::new(jiff::Timestamp::now()));
        let vault = Arc::new(Vault::default());
        let retry = RetryPolicy {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let rotation = Rotation {
            day_count: 30,
            keys_to_retain: 2,
        };
        let (mut confluent, mut snowflake) = (None, None);
        match self.real {
            Real::Confluent => {
                confluent = Some(ConfluentProvider(Confluent::new(confluent::Settings {
                    endpoint: own.cloud.url().parse().unwrap(),
                    api_key: CONFLUENT_KEY.into(),
                    api_secret: self.confluent_secret.into(),
                    region: REGION.into(),
                    rotation,
                    clock: clock.clone(),
                    vault: vault.clone(),
                    retry,
                    propagation: Duration::from_secs(60),
                })));
            }
            Real::Snowflake => {
                snowflake = Some(SnowflakeProvider {
                    sf: Snowflake::new(snowflake::Settings {
                        admin: Some(Admin {
                            account: clouds::SNOWFLAKE_ACCOUNT.into(),
                            user: "ADMIN".into(),
                            private_key_pem: own.admin_pem.clone(),
                        }),
                        endpoint: Some(own.cloud.url().parse().unwrap()),
                        warehouse: Some("ADMIN_WH".into()),
                        rotation,
                        clock: clock.clone(),
                        vault: vault.clone(),
                        retry,
                    }),
                    store: Arc::new(MemoryStore::default()),
                });
            }
        }
        let file = self.stackfile.unwrap_or_else(Stackfile::default_stack);
        let names = Names::new(&self.stack_name);
        let stand_in = StandIn::new(self.recorded);
        let fresh = StateDoc::new(&self.stack_name);
        let graph = stack_graph(&names, &file, &stand_in, &confluent, &snowflake, &fresh);
        Context {
            cloud: own.cloud,
            emulator: own.snowflake,
            clock,
            vault,
            names,
            graph,
            file,
            confluent,
            snowflake,
            stand_in,
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

/// The stack file's graph with what `state` records beyond it, retired, as `create` builds it.
fn stack_graph(
    names: &Names,
    file: &Stackfile,
    stand_in: &StandIn,
    confluent: &Option<ConfluentProvider>,
    snowflake: &Option<SnowflakeProvider>,
    state: &StateDoc,
) -> Graph {
    let mut stack = stack::Stack::offline(names, file);
    stack.aws_account = Some(AWS_ACCOUNT);
    stack.region = Some(REGION);
    let mut decls = stack::declare(&stack);
    let unknown = stack::prune(&mut decls, state, names);
    assert!(unknown.is_empty(), "recorded without a spec: {unknown:?}");
    let clouds = ByCloud {
        confluent: match confluent {
            Some(real) => real,
            None => stand_in,
        },
        aws: stand_in,
        snowflake: match snowflake {
            Some(real) => real,
            None => stand_in,
        },
    };
    stack::graph_of(decls, &clouds, stack::Direction::Forward).unwrap()
}

pub struct Context {
    /// The emulators' server: its journal of mutating calls and its fault layer.
    pub cloud: LocalCloud,
    /// The Snowflake emulator's registry, to read what is in it.
    pub emulator: local_cloud::snowflake::Snowflake,
    pub clock: Arc<TestClock>,
    /// Where the real nodes keep the secrets of the keys they make.
    pub vault: Arc<Vault>,
    pub names: Names,
    pub graph: Graph,
    file: Stackfile,
    confluent: Option<ConfluentProvider>,
    snowflake: Option<SnowflakeProvider>,
    stand_in: StandIn,
    dir: tempfile::TempDir,
}

impl Context {
    /// Confluent nodes run against the emulator; AWS and Snowflake nodes are stood in for.
    pub fn confluent() -> Setup {
        Setup::new(Real::Confluent)
    }

    /// Snowflake nodes run against the emulator; Confluent and AWS nodes are stood in for.
    pub fn snowflake() -> Setup {
        Setup::new(Real::Snowflake)
    }

    /// Rebuilds the graph with what `state` records beyond the stack, retired, as `create` does.
    pub fn include_retired(&mut self, state: &StateDoc) {
        self.graph = stack_graph(
            &self.names,
            &self.file,
            &self.stand_in,
            &self.confluent,
            &self.snowflake,
            state,
        );
    }

    /// An engine on the graph with polls short enough for the emulators' delays.
    pub fn engine<'a>(&'a self, ledger: &'a Ledger) -> Engine<'a> {
        let options = Options {
            poll: PollPolicy {
                first: Duration::from_millis(20),
                cap: Duration::from_millis(200),
                factor: 1.5,
            },
            deadline: Some(Duration::from_secs(20)),
            ..Options::default()
        };
        Engine::new(&self.graph, ledger, &Silent, options)
    }

    /// A second `create` after a complete one: every live node is found unchanged and no
    /// mutating call reaches the emulators.
    pub async fn create_again_only_reads(&self, ledger: &Ledger) {
        self.cloud.journal.clear();
        let again = self.engine(ledger).create().await;
        assert!(again.ok(), "{:?}", again.failures);
        let live = self.graph.nodes().iter().filter(|n| !n.retired).count();
        let outcomes = &again.outcomes;
        assert_eq!(again.count(Outcome::Unchanged), live, "{outcomes:?}");
        let calls = self.cloud.journal.calls();
        assert!(calls.is_empty(), "mutating calls on a re-run: {calls:?}");
    }

    /// A fresh state kept in memory.
    pub fn ledger(&self) -> Ledger {
        let doc = StateDoc::new(self.names.stack());
        Ledger::new(doc, Box::new(Arc::new(MemorySink::default())))
    }

    /// A fresh state saved to [`Context::state_file`], for a test that reads what was written.
    pub fn file_ledger(&self) -> Ledger {
        let doc = StateDoc::new(self.names.stack());
        Ledger::new(doc, Box::new(FileStore::new(self.state_file())))
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }

    /// The Snowflake client the real Snowflake nodes share.
    pub fn sf(&self) -> &Arc<Snowflake> {
        &self.real_snowflake().sf
    }

    /// The secret store the real key-pair node writes the service user's keys to.
    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.real_snowflake().store
    }

    fn real_snowflake(&self) -> &SnowflakeProvider {
        let real = self.snowflake.as_ref();
        real.expect("this context stands in for Snowflake: start it with Context::snowflake()")
    }
}
