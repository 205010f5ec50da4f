//! `kickstart doctor` against stand-ins set up with every permission, or with one missing in one
//! cloud (the Cloud API key's owner without OrganizationAdmin; an AWS user whose policy denies an
//! action the stack calls; a Snowflake admin without ACCOUNTADMIN): it names what is missing and
//! how to grant it, exits 1, and `create` stops with exit 2 before touching anything; Lake
//! Formation, when it governs the catalog, is asked what it grants Tableflow's role. In every
//! case not one mutating call reaches any stand-in.

use std::path::PathBuf;

use crate::common;

use common::clouds::{self, OwnEmulators};
use common::{FULL, Test};

/// An AWS profile `dev` whose keys are an IAM user in moto holding `inline` as its own policy
/// and `managed` attached, so that IAM's simulator has real policies to read.
async fn aws_user(
    inline: serde_json::Value,
    managed: Option<serde_json::Value>,
) -> (PathBuf, tempfile::TempDir) {
    let iam = aws_sdk_iam::Client::new(&clouds::moto_sdk().await);
    let user = "ci-runner";
    iam.create_user().user_name(user).send().await.unwrap();
    iam.put_user_policy()
        .user_name(user)
        .policy_name("stack")
        .policy_document(inline.to_string())
        .send()
        .await
        .unwrap();
    if let Some(doc) = managed {
        let made = iam
            .create_policy()
            .policy_name("guard")
            .policy_document(doc.to_string())
            .send()
            .await
            .unwrap();
        let arn = made.policy().unwrap().arn().unwrap().to_string();
        iam.attach_user_policy()
            .user_name(user)
            .policy_arn(arn)
            .send()
            .await
            .unwrap();
    }
    let key = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            key.access_key_id(),
            key.secret_access_key()
        ),
    )
    .unwrap();
    (credentials, dir)
}

fn allow_all() -> serde_json::Value {
    serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// The stand-ins of one test: its own Confluent and Snowflake emulators, AWS through the proxy
/// (which serves IAM's simulator) as the given profile.
struct Setup {
    own: OwnEmulators,
    proxy: String,
    credentials: PathBuf,
    _keep: tempfile::TempDir,
}

impl Setup {
    async fn new(managed: Option<serde_json::Value>) -> Setup {
        let own = OwnEmulators::fresh().await;
        let proxy = tokio::task::spawn_blocking(|| clouds::moto_proxy().url.clone())
            .await
            .unwrap();
        let (credentials, keep) = aws_user(allow_all(), managed).await;
        Setup {
            own,
            proxy,
            credentials,
            _keep: keep,
        }
    }

    fn test(&self, command: &str) -> Test {
        Test::new()
            .args([command])
            .args(FULL)
            .envs(self.own.env())
            .env("AWS_ENDPOINT_URL", &self.proxy)
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                &self.credentials.display().to_string(),
            )
    }

    /// Not one mutating call at the Confluent and Snowflake emulators or at AWS.
    fn assert_untouched(&self, when: &str) {
        let here = self.own.cloud.journal.calls();
        let aws = clouds::moto_proxy().journal.calls();
        assert!(here.is_empty(), "{when}: {here:?}");
        assert!(aws.is_empty(), "{when}: {aws:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_every_permission_doctor_passes_and_changes_nothing() {
    let s = Setup::new(None).await;
    let (run, _) = s
        .test("doctor")
        .status(0)
        .stdout_has("ok       confluent: the owner of Cloud API key CKEY123 holds OrganizationAdmin on the organization (user u-")
        .stdout_has("ok       aws: arn:aws:iam::123456789012:user/ci-runner may iam:GetRole")
        .stdout_has("ok       snowflake: the admin user ADMIN may use role ACCOUNTADMIN")
        .stdout_has("ok       aws: Lake Formation lets the Tableflow role tableflow_s3_glue_role publish to the Glue Data Catalog (it leaves the catalog to IAM)")
        .run_async()
        .await;
    assert!(!run.stdout.contains("missing"), "{}", run.stdout);
    // Every resource kind of the stack was asked about.
    for arn in [
        ":role/tableflow_s3_glue_role",
        ":policy/tableflow_s3_glue_access_policy",
        "arn:aws:s3:::",
        ":secret:/confluent_cloud_resource/tableflow_kickstarter/",
        ":database/*",
    ] {
        assert!(
            run.stdout.contains(arn),
            "{arn} not checked:\n{}",
            run.stdout
        );
    }
    s.assert_untouched("doctor");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cloud_api_key_owner_without_organization_admin_is_named() {
    let s = Setup::new(None).await;
    let revoke = format!("{}/_local/confluent/owner-admin", s.own.cloud.url());
    let answer = reqwest::Client::new().delete(&revoke).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 204);
    s.test("doctor")
        .status(1)
        .stdout_has("missing  confluent: the owner of Cloud API key CKEY123 holds OrganizationAdmin on the organization (user u-")
        .stdout_has("--role OrganizationAdmin")
        .stderr_has("1 permission(s) the stack needs are missing")
        .run_async()
        .await;
    s.assert_untouched("doctor");
    let (_, dir) = s
        .test("create")
        .status(2)
        .stderr_has("the credentials lack what the stack needs, so nothing was touched: confluent: the owner of Cloud API key CKEY123 holds OrganizationAdmin")
        .stderr_lines(1)
        .run_async()
        .await;
    s.assert_untouched("create");
    assert!(!dir.path().join("kickstart.state.json").exists());
    // The emulator refuses, as Confluent does, what the missing role would allow.
    let env = reqwest::Client::new()
        .post(format!("{}/org/v2/environments", s.own.cloud.url()))
        .basic_auth(clouds::CONFLUENT_KEY, Some(clouds::CONFLUENT_SECRET))
        .json(&serde_json::json!({"display_name": "x", "stream_governance_config": {"package": "ESSENTIALS"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(env.status().as_u16(), 403);
    let body: serde_json::Value = env.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "user_unauthorized", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aws_action_the_policy_denies_is_named() {
    let guard = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["iam:CreateRole", "iam:TagRole"], "Resource": "arn:aws:iam::*:role/*"}
    ]});
    let s = Setup::new(Some(guard)).await;
    let (run, _) = s
        .test("doctor")
        .status(1)
        .stdout_has("missing  aws: arn:aws:iam::123456789012:user/ci-runner may not iam:CreateRole, iam:TagRole on arn:aws:iam::123456789012:role/tableflow_s3_glue_role: attach to arn:aws:iam::123456789012:user/ci-runner an IAM policy that allows iam:CreateRole, iam:TagRole")
        .stdout_has("ok       confluent:")
        .stdout_has("ok       aws: arn:aws:iam::123456789012:user/ci-runner may iam:GetPolicy")
        .run_async()
        .await;
    // Both roles, and nothing else.
    assert_eq!(run.stdout.matches("missing  ").count(), 2, "{}", run.stdout);
    s.assert_untouched("doctor");
    s.test("create")
        .status(2)
        .stderr_has("nothing was touched: aws: arn:aws:iam::123456789012:user/ci-runner may not iam:CreateRole")
        .run_async()
        .await;
    s.assert_untouched("create");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snowflake_admin_without_accountadmin_is_named() {
    let s = Setup::new(None).await;
    s.own.snowflake.revoke_from_admin("ACCOUNTADMIN");
    s.test("doctor")
        .status(1)
        .stdout_has("missing  snowflake: the admin user ADMIN may use role ACCOUNTADMIN (the stack makes its external volume and catalog integration with it): a user with ACCOUNTADMIN runs GRANT ROLE ACCOUNTADMIN TO USER \"ADMIN\"")
        .stdout_has("ok       snowflake: the admin user ADMIN may use role SYSADMIN")
        .run_async()
        .await;
    s.assert_untouched("doctor");
    s.test("create")
        .status(2)
        .stderr_has("snowflake: the admin user ADMIN may use role ACCOUNTADMIN")
        .run_async()
        .await;
    s.assert_untouched("create");
    assert!(
        s.own
            .snowflake
            .names(local_cloud::snowflake::Kind::Warehouse)
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_iam_s_simulator_doctor_says_it_could_not_check() {
    // The shared stand-ins reach moto directly, which does not serve the simulator; the
    // identity is an IAM user of moto's so that the simulator is asked.
    let (credentials, _keep) = aws_user(allow_all(), None).await;
    let credentials = credentials.display().to_string();
    let (run, _) = tokio::task::spawn_blocking(move || {
        Test::new()
            .args(["doctor"])
            .args(FULL)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .status(0)
            .stdout_has("unknown  aws: arn:aws:iam::123456789012:user/ci-runner may build the stack's AWS resources: could not check: IAM's policy simulator did not answer")
            .stdout_has("ok       confluent:")
            .stdout_has("ok       snowflake:")
            .run()
    })
    .await
    .unwrap();
    assert!(!run.stdout.contains("missing"), "{}", run.stdout);
    assert!(clouds::emulators().journal.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assumed_role_is_simulated_as_its_iam_role_path_and_all() {
    // An SSO login is an assumed role under a path; IAM's simulator knows the role, not the session.
    let config = clouds::moto_sdk().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("ci-role")
        .path("/aws-reserved/sso.amazonaws.com/")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let only_s3 = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "iam:GetRole"], "Resource": "*"}]});
    iam.put_role_policy()
        .role_name("ci-role")
        .policy_name("s3-only")
        .policy_document(only_s3.to_string())
        .send()
        .await
        .unwrap();
    let role = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/ci-role";
    let session = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn(role)
        .role_session_name("someone@example.com")
        .send()
        .await
        .unwrap();
    let c = session.credentials().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token()
        ),
    )
    .unwrap();
    let own = OwnEmulators::fresh().await;
    let proxy = tokio::task::spawn_blocking(|| clouds::moto_proxy().url.clone())
        .await
        .unwrap();
    let (run, _) = Test::new()
        .args(["doctor"])
        .args(FULL)
        .envs(own.env())
        .env("AWS_ENDPOINT_URL", &proxy)
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            &credentials.display().to_string(),
        )
        .status(1)
        .stdout_has(&format!("ok       aws: {role} may s3:ListAllMyBuckets"))
        .stdout_has(&format!(
            "missing  aws: {role} may not iam:CreateRole, iam:TagRole"
        ))
        .run_async()
        .await;
    assert!(!run.stdout.contains("missing  confluent"), "{}", run.stdout);
    assert!(!run.stdout.contains("missing  snowflake"), "{}", run.stdout);
    assert!(own.cloud.journal.calls().is_empty());
    assert!(clouds::moto_proxy().journal.calls().is_empty());
}

#[test]
fn an_identity_the_simulator_cannot_know_is_not_asked_about() {
    // moto's default identity is no IAM user: doctor says so without a call.
    let proxy = clouds::moto_proxy();
    let (run, _) = Test::new()
        .args(["doctor"])
        .args(FULL)
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .status(0)
        .stdout_has("unknown  aws: arn:aws:sts::123456789012:user/moto may build the stack's AWS resources: could not check: IAM's policy simulator knows only IAM users and roles")
        .run();
    assert!(!run.stdout.contains("missing"), "{}", run.stdout);
    assert!(proxy.journal.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_json_reports_each_check_and_a_summary() {
    let s = Setup::new(None).await;
    s.own.snowflake.revoke_from_admin("ACCOUNTADMIN");
    let (run, _) = s
        .test("doctor")
        .args(["--output", "json"])
        .status(1)
        .run_async()
        .await;
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let missing: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "check" && e["check"]["status"] == "missing")
        .collect();
    assert_eq!(missing.len(), 1, "{}", run.stdout);
    assert_eq!(missing[0]["check"]["cloud"], "snowflake");
    assert!(
        missing[0]["check"]["grant"]
            .as_str()
            .unwrap()
            .contains("GRANT ROLE ACCOUNTADMIN")
    );
    // The summary, then (doctor exits 1) the error event.
    let summary = &events[events.len() - 2];
    assert_eq!(summary["event"], "summary", "{}", run.stdout);
    assert_eq!(events.last().unwrap()["exit_code"], 1);
    assert_eq!(summary["missing"], 1);
    s.assert_untouched("doctor");
}

#[tokio::test(flavor = "multi_thread")]
async fn lake_formation_governing_the_catalog_is_asked_what_it_grants_the_tableflow_role() {
    use aws_sdk_lakeformation::types::{
        CatalogResource, DataLakePrincipal, DataLakeSettings, DataLocationResource, Permission,
        Resource,
    };
    const ROLE: &str = "tableflow_s3_glue_role";
    let s = Setup::new(None).await;
    let sdk = clouds::moto_sdk().await;
    let lf = aws_sdk_lakeformation::Client::new(&sdk);
    // The account's catalog governed by Lake Formation: new databases and tables no longer go
    // to IAM_ALLOWED_PRINCIPALS.
    lf.put_data_lake_settings()
        .data_lake_settings(DataLakeSettings::builder().build())
        .send()
        .await
        .unwrap();
    // Before the first create the role cannot hold a grant: said, and create is not stopped.
    s.test("doctor")
        .status(0)
        .stdout_has("unknown  aws: Lake Formation lets the Tableflow role tableflow_s3_glue_role publish to the Glue Data Catalog: could not check: Lake Formation governs the Glue Data Catalog and the role does not exist yet")
        .run_async()
        .await;
    // Once the role exists, it must hold the grants.
    aws_sdk_iam::Client::new(&sdk)
        .create_role()
        .role_name(ROLE)
        .assume_role_policy_document(
            serde_json::json!({"Version": "2012-10-17", "Statement": []}).to_string(),
        )
        .send()
        .await
        .unwrap();
    s.test("doctor")
        .status(1)
        .stdout_has("missing  aws: Lake Formation lets the Tableflow role tableflow_s3_glue_role publish to the Glue Data Catalog: as a data lake administrator")
        .stdout_has("--permissions CREATE_DATABASE --resource '{\"Catalog\":{}}'")
        .run_async()
        .await;
    let principal = DataLakePrincipal::builder()
        .data_lake_principal_identifier(format!("arn:aws:iam::123456789012:role/{ROLE}"))
        .build();
    let grant = |resource: Resource, permission: Permission| {
        lf.grant_permissions()
            .principal(principal.clone())
            .resource(resource)
            .permissions(permission)
            .send()
    };
    grant(
        Resource::builder()
            .catalog(CatalogResource::builder().build())
            .build(),
        Permission::CreateDatabase,
    )
    .await
    .unwrap();
    // The catalog alone is not enough: Tableflow writes the bucket's location too.
    s.test("doctor").status(1).run_async().await;
    let location = DataLocationResource::builder()
        .resource_arn("arn:aws:s3:::tableflow-kickstarter-0123")
        .build()
        .unwrap();
    grant(
        Resource::builder().data_location(location).build(),
        Permission::DataLocationAccess,
    )
    .await
    .unwrap();
    s.test("doctor")
        .status(0)
        .stdout_has("ok       aws: Lake Formation lets the Tableflow role tableflow_s3_glue_role publish to the Glue Data Catalog")
        .run_async()
        .await;
    s.assert_untouched("after doctor read Lake Formation");
}
