//! `local-cloud`: runs the stand-ins on a loopback port until stopped.

use std::net::{IpAddr, SocketAddr};

use clap::Parser;
use local_cloud::confluent::{self, ConfluentConfig, Delays};
use local_cloud::snowflake::{self, Snowflake, SnowflakeConfig};
use local_cloud::{FaultConfig, Limits, LocalCloud, Rate, aws_proxy};

#[derive(Debug, Parser)]
#[command(
    name = "local-cloud",
    version,
    about = "Local stand-ins for Confluent Cloud and Snowflake"
)]
struct Args {
    /// Address to listen on; loopback only unless you mean otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port; 0 picks a free one (the chosen URL is printed on stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Added latency per call in milliseconds: N, or MIN..MAX.
    #[arg(long, default_value = "0", value_parser = latency)]
    latency_ms: (u64, u64),
    /// Share of calls answered 429 with Retry-After (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Share of calls answered 500/503 (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share of changes carried out whose answer is then lost: a 500/503 or a cut connection
    /// (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    lost_answer_rate: f64,
    /// Retry-After seconds on throttled answers.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Seed of the fault generator, so a run can be replayed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The Cloud API key the emulated Confluent management API accepts.
    #[arg(
        long,
        env = "LOCAL_CLOUD_CONFLUENT_API_KEY",
        default_value = "local-cloud-key"
    )]
    confluent_api_key: String,
    /// Its secret.
    #[arg(
        long,
        env = "LOCAL_CLOUD_CONFLUENT_API_SECRET",
        default_value = "local-cloud-secret",
        hide_env_values = true
    )]
    confluent_api_secret: String,
    /// The Snowflake account identifier the emulator answers as.
    #[arg(long, default_value = "LOCALORG-LOCALCLOUD")]
    snowflake_account: String,
    /// The Snowflake admin user.
    #[arg(long, default_value = "ADMIN")]
    snowflake_admin_user: String,
    /// File with the admin's public key (SPKI PEM).
    #[arg(long, conflicts_with = "snowflake_admin_key_out")]
    snowflake_admin_public_key: Option<std::path::PathBuf>,
    /// Make a new admin key pair and write its private key (PKCS#8 PEM) here, for a sandbox.
    /// Without this or the option above the Snowflake emulator is off.
    #[arg(long)]
    snowflake_admin_key_out: Option<std::path::PathBuf>,
    /// Confluent Cloud's organization-wide rate limit: calls per second every client shares (0:
    /// none); beyond
    /// it and --rate-limit-burst, calls are answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    rate_limit: f64,
    #[arg(long, default_value_t = 10)]
    rate_limit_burst: u32,
    /// AWS IAM's account-wide rate limit in calls per second (0: none), on the AWS proxy
    /// (--aws-proxy-to); beyond it and its burst, IAM's throttle: 400 `Throttling`.
    #[arg(long, default_value_t = 0.0)]
    iam_rate_limit: f64,
    #[arg(long, default_value_t = 10)]
    iam_rate_limit_burst: u32,
    /// Secrets Manager's account-wide rate limit in calls per second (0: none), on the AWS proxy;
    /// beyond it and its burst, 400 `ThrottlingException`.
    #[arg(long, default_value_t = 0.0)]
    secrets_manager_rate_limit: f64,
    #[arg(long, default_value_t = 10)]
    secrets_manager_rate_limit_burst: u32,
    /// Snowflake's account-wide rate limit in calls per second (0: none); beyond it and its
    /// burst, logins and statements are answered 429.
    #[arg(long, default_value_t = 0.0)]
    snowflake_rate_limit: f64,
    #[arg(long, default_value_t = 10)]
    snowflake_rate_limit_burst: u32,
    /// Also serve a proxy in front of this AWS endpoint (moto) on a second port, with the same
    /// faults and the AWS limits; its URL is printed on a second line, for AWS_ENDPOINT_URL.
    #[arg(long)]
    aws_proxy_to: Option<String>,
    /// Say Retry-After as an HTTP-date instead of seconds.
    #[arg(long)]
    retry_after_as_date: bool,
    /// How long asynchronous Confluent resources stay in their first phase (PROVISIONING, PENDING).
    #[arg(long, default_value_t = 1000)]
    provisioning_ms: u64,
    /// How long new Confluent API keys and role bindings take to be honoured, drawn per key or
    /// binding: N or MIN..MAX in milliseconds. Default: half to twice --provisioning-ms.
    #[arg(long, value_parser = latency)]
    propagation_ms: Option<(u64, u64)>,
    /// How long Confluent deletes take (clusters, pools, connectors, topics, statements).
    /// Default: --provisioning-ms.
    #[arg(long)]
    deleting_ms: Option<u64>,
    /// The AWS endpoint of the customer's account (moto), where Tableflow writes its tables and
    /// publishes them to Glue, and Snowflake reads them, as the real services do (each assuming
    /// its role only if the role's trust lets it in). Without it, neither touches AWS.
    #[arg(long)]
    aws_endpoint: Option<String>,
}

fn latency(s: &str) -> Result<(u64, u64), String> {
    let parse = |p: &str| {
        p.trim()
            .parse::<u64>()
            .map_err(|_| "give N or MIN..MAX in milliseconds".to_string())
    };
    match s.split_once("..") {
        Some((a, b)) => Ok((parse(a)?, parse(b)?)),
        None => parse(s).map(|n| (n, n)),
    }
}

/// Makes an RSA key pair, writes the private key (owner-only), and returns the public key's PEM.
fn new_admin_key(out: &std::path::Path) -> anyhow::Result<String> {
    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
    let pem = private.to_pkcs8_pem(LineEnding::LF)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(out)?;
    file.write_all(pem.as_bytes())?;
    Ok(private.to_public_key().to_public_key_pem(LineEnding::LF)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let faults = FaultConfig {
        min_latency_ms: args.latency_ms.0,
        max_latency_ms: args.latency_ms.1,
        throttle_rate: args.throttle_rate,
        error_rate: args.error_rate,
        lost_answer_rate: args.lost_answer_rate,
        retry_after_secs: args.retry_after,
        rate_limit_per_sec: args.rate_limit,
        rate_limit_burst: args.rate_limit_burst,
        retry_after_as_date: args.retry_after_as_date,
        seed: args.seed,
        hang_at: None,
        hold_after: None,
        limits: Limits {
            iam: Rate::new(args.iam_rate_limit, args.iam_rate_limit_burst),
            secrets_manager: Rate::new(
                args.secrets_manager_rate_limit,
                args.secrets_manager_rate_limit_burst,
            ),
            snowflake: Rate::new(args.snowflake_rate_limit, args.snowflake_rate_limit_burst),
        },
    };
    let addr = SocketAddr::new(args.host, args.port);
    let ms = std::time::Duration::from_millis;
    let mut delays = Delays::uniform(ms(args.provisioning_ms));
    if let Some((lo, hi)) = args.propagation_ms {
        delays.key_propagation = (ms(lo), ms(hi));
        delays.binding_propagation = (ms(lo), ms(hi));
    }
    if let Some(d) = args.deleting_ms {
        delays.deleting = ms(d);
    }
    let mut confluent =
        ConfluentConfig::new(&args.confluent_api_key, &args.confluent_api_secret, delays);
    if let Some(aws) = &args.aws_endpoint {
        confluent = confluent.with_customer_aws(aws);
    }
    let mut services = confluent::router(confluent);
    let admin_key = match (
        &args.snowflake_admin_public_key,
        &args.snowflake_admin_key_out,
    ) {
        (Some(file), _) => Some(std::fs::read_to_string(file)?),
        (None, Some(out)) => Some(new_admin_key(out)?),
        (None, None) => None,
    };
    if let Some(pem) = admin_key {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut sf = Snowflake::new(SnowflakeConfig {
            account: args.snowflake_account.clone(),
            admin_user: args.snowflake_admin_user.clone(),
            admin_public_key: body,
            iam_user_arn: "arn:aws:iam::123456789012:user/localcloud-snowflake".into(),
        });
        if let Some(aws) = &args.aws_endpoint {
            sf = sf.with_customer_aws(aws);
        }
        services = services.merge(snowflake::router(sf));
    }
    let proxy = match &args.aws_proxy_to {
        Some(moto) => {
            let any_port = SocketAddr::new(args.host, 0);
            let router = aws_proxy::router(moto);
            Some(LocalCloud::start(any_port, faults.clone(), router).await?)
        }
        None => None,
    };
    let cloud = LocalCloud::start(addr, faults, services).await?;
    // The one line a script reads to learn the port.
    println!("local-cloud listening on {}", cloud.url());
    if let Some(p) = &proxy {
        println!("local-cloud AWS proxy listening on {}", p.url());
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    cloud.stop().await;
    if let Some(p) = proxy {
        p.stop().await;
    }
    Ok(())
}
