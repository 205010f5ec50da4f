//! Every cloud name derives from the stack name, so a re-run finds what an earlier run made and two
//! stacks with different names can share an account.

/// The stack name used when none is given; its resources keep the Bash kickstarter's names.
pub const DEFAULT_STACK: &str = "tableflow_kickstarter";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    stack: String,
}

impl Names {
    /// `stack` must already be valid (lowercase letters, digits and `_`).
    pub fn new(stack: &str) -> Self {
        Names {
            stack: stack.to_string(),
        }
    }

    pub fn stack(&self) -> &str {
        &self.stack
    }

    fn is_default(&self) -> bool {
        self.stack == DEFAULT_STACK
    }

    /// Names that the Bash kickstarter gave without the stack name get it as a prefix on any other
    /// stack, so two stacks do not collide.
    fn prefixed(&self, name: &str) -> String {
        if self.is_default() {
            name.to_string()
        } else {
            format!("{}_{name}", self.stack)
        }
    }

    /// `{name-}`: S3 bucket names allow no `_`.
    pub fn dashed(&self) -> String {
        self.stack.replace('_', "-")
    }

    /// `{NAME}`: Snowflake object names.
    pub fn upper(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.stack.to_ascii_uppercase())
    }

    pub fn service_account(&self, role: &str) -> String {
        match role {
            "schema_registry_cluster_api" => format!("{}_{role}", self.stack),
            // The seed names the runner after the stack itself, not with the `tableflow_` prefix.
            "flink_statements_runner" => format!("{}_flink_sql_statements_runner", self.stack),
            _ => self.prefixed(&format!("tableflow_{role}")),
        }
    }

    /// The seed's fixed `tableflow_` names; another stack puts its own name in place of that word,
    /// as STACK.md gives them (`{name}_flink_statement_runner`, ...).
    fn tableflow_or_stack(&self, rest: &str) -> String {
        if self.is_default() {
            format!("tableflow_{rest}")
        } else {
            format!("{}_{rest}", self.stack)
        }
    }

    pub fn compute_pool(&self) -> String {
        self.tableflow_or_stack("flink_statement_runner")
    }

    pub fn provider_integration(&self) -> String {
        self.tableflow_or_stack("aws_integration")
    }

    pub fn catalog_integration(&self) -> String {
        self.tableflow_or_stack("aws_glue_catalog_sync")
    }

    pub fn tableflow_policy(&self) -> String {
        self.prefixed("tableflow_s3_glue_access_policy")
    }

    pub fn snowflake_policy(&self) -> String {
        format!("{}_access_policy", self.snowflake_role())
    }

    pub fn tableflow_role(&self) -> String {
        self.prefixed("tableflow_s3_glue_role")
    }

    pub fn snowflake_role(&self) -> String {
        self.prefixed("snowflake_s3_glue_role")
    }

    pub fn confluent_secret(&self, path: &str) -> String {
        format!("/confluent_cloud_resource/{}/{path}", self.stack)
    }

    pub fn snowflake_secret(&self) -> String {
        format!("/snowflake_resource/{}", self.stack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_stack_keeps_the_bash_names() {
        let n = Names::new(DEFAULT_STACK);
        assert_eq!(n.service_account("app_manager"), "tableflow_app_manager");
        assert_eq!(
            n.service_account("schema_registry_cluster_api"),
            "tableflow_kickstarter_schema_registry_cluster_api"
        );
        assert_eq!(n.tableflow_role(), "tableflow_s3_glue_role");
        assert_eq!(n.upper("WAREHOUSE"), "TABLEFLOW_KICKSTARTER_WAREHOUSE");
        assert_eq!(n.dashed(), "tableflow-kickstarter");
        assert_eq!(
            n.service_account("flink_statements_runner"),
            "tableflow_kickstarter_flink_sql_statements_runner"
        );
        assert_eq!(n.compute_pool(), "tableflow_flink_statement_runner");
        assert_eq!(n.provider_integration(), "tableflow_aws_integration");
        assert_eq!(n.catalog_integration(), "tableflow_aws_glue_catalog_sync");
        assert_eq!(n.tableflow_policy(), "tableflow_s3_glue_access_policy");
        assert_eq!(n.snowflake_policy(), "snowflake_s3_glue_role_access_policy");
        assert_eq!(n.upper("LOCATION"), "TABLEFLOW_KICKSTARTER_LOCATION");
    }

    #[test]
    fn another_stack_prefixes_every_shared_name() {
        let n = Names::new("team_b");
        assert_eq!(
            n.service_account("app_manager"),
            "team_b_tableflow_app_manager"
        );
        assert_eq!(n.tableflow_role(), "team_b_tableflow_s3_glue_role");
        assert_eq!(n.snowflake_role(), "team_b_snowflake_s3_glue_role");
        assert_eq!(n.compute_pool(), "team_b_flink_statement_runner");
        assert_eq!(n.provider_integration(), "team_b_aws_integration");
        assert_eq!(n.catalog_integration(), "team_b_aws_glue_catalog_sync");
        assert_eq!(
            n.tableflow_policy(),
            "team_b_tableflow_s3_glue_access_policy"
        );
        assert_eq!(
            n.snowflake_policy(),
            "team_b_snowflake_s3_glue_role_access_policy"
        );
        assert_eq!(
            n.confluent_secret("flink"),
            "/confluent_cloud_resource/team_b/flink"
        );
    }
}
