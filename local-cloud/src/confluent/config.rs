//! How an emulated Confluent Cloud organization is set up: its Cloud API key, its id, the delays
//! of its asynchronous work, and the customer's AWS account Tableflow writes to.

use super::world::Delays;

#[derive(Clone, Debug)]
pub struct ConfluentConfig {
    /// The organization-level Cloud API key the management API accepts.
    pub api_key: String,
    pub api_secret: String,
    pub organization_id: String,
    /// The user who owns the Cloud API key (`u-…`); they start as the organization's admin.
    pub owner: String,
    pub delays: Delays,
    /// The customer's AWS account (moto's URL), where Tableflow writes its tables and publishes
    /// them to Glue. Without it, Tableflow's phases move on with time alone.
    pub customer_aws: Option<String>,
}

impl ConfluentConfig {
    pub fn new(api_key: &str, api_secret: &str, delays: Delays) -> Self {
        ConfluentConfig {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            organization_id: uuid::Uuid::new_v4().to_string(),
            owner: format!("u-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
            delays,
            customer_aws: None,
        }
    }

    /// Tableflow reaches the customer's AWS account at `endpoint`.
    pub fn with_customer_aws(mut self, endpoint: &str) -> Self {
        self.customer_aws = Some(endpoint.to_string());
        self
    }
}
