//! A1: the bucket `{name-}-<id>` Tableflow writes into. The id is chosen once and recorded; a run
//! that lost it finds the bucket by its prefix. Delete empties it (every object and version) first.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging,
};

use super::kinds::Bucket;
use super::{Aws, sdk_error};
use crate::engine::{Inputs, NodeError, Record, Resource};

pub struct BucketNode {
    aws: Arc<Aws>,
    spec: Bucket,
}

impl BucketNode {
    pub fn new(aws: Arc<Aws>, spec: Bucket) -> Self {
        BucketNode { aws, spec }
    }

    fn prefix(&self) -> String {
        format!("{}-", self.spec.prefix)
    }

    fn record(&self, name: &str) -> Record {
        Record::new(name)
            .with("name", name)
            .with("arn", format!("arn:aws:s3:::{name}"))
            .with("region", &self.aws.region)
    }

    /// The spec's tags, put once the bucket exists (CreateBucket takes none in every region and
    /// every stand-in). A run that dies between the two leaves it untagged, as an adopted one is.
    async fn tag(&self, bucket: &str) -> Result<(), NodeError> {
        if self.spec.tags.is_empty() {
            return Ok(());
        }
        let mut tagging = Tagging::builder();
        for (key, value) in &self.spec.tags {
            let tag = Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| NodeError::Other(e.into()))?;
            tagging = tagging.tag_set(tag);
        }
        let tagging = tagging.build().map_err(|e| NodeError::Other(e.into()))?;
        self.aws
            .s3
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| sdk_error("PutBucketTagging", e))?;
        Ok(())
    }

    /// Deletes every object version and delete marker, then every remaining object.
    async fn empty(&self, bucket: &str) -> Result<(), NodeError> {
        let s3 = &self.aws.s3;
        loop {
            let page = s3
                .list_object_versions()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| sdk_error("ListObjectVersions", e))?;
            let mut ids: Vec<ObjectIdentifier> = Vec::new();
            for v in page.versions() {
                if let Some(key) = v.key() {
                    ids.push(
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(v.version_id().map(str::to_string))
                            .build()
                            .map_err(|e| NodeError::Other(e.into()))?,
                    );
                }
            }
            for m in page.delete_markers() {
                if let Some(key) = m.key() {
                    ids.push(
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(m.version_id().map(str::to_string))
                            .build()
                            .map_err(|e| NodeError::Other(e.into()))?,
                    );
                }
            }
            if ids.is_empty() {
                break;
            }
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| NodeError::Other(e.into()))?;
            s3.delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", e))?;
        }
        Ok(())
    }
}

/// kickstart's 12 hex digits, or the whole UUID that deploy.sh's Terraform appends, so that a
/// stack deploy.sh built is found by name.
fn ours_suffix(suffix: &str) -> bool {
    let hex12 = suffix.len() == 12 && suffix.bytes().all(|b| b.is_ascii_hexdigit());
    hex12 || (suffix.len() == 36 && uuid::Uuid::try_parse(suffix).is_ok())
}

#[async_trait]
impl Resource for BucketNode {
    async fn find(
        &self,
        _inputs: &Inputs,
        known: Option<&Record>,
    ) -> Result<Option<Record>, NodeError> {
        let buckets = self
            .aws
            .s3
            .list_buckets()
            .send()
            .await
            .map_err(|e| sdk_error("ListBuckets", e))?;
        let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
        if let Some(known) = known {
            return Ok(names
                .contains(&known.id.as_str())
                .then(|| self.record(&known.id)));
        }
        let prefix = self.prefix();
        let ours: Vec<&str> = names
            .into_iter()
            .filter(|n| n.strip_prefix(&prefix).is_some_and(ours_suffix))
            .collect();
        match ours[..] {
            [] => Ok(None),
            [one] => Ok(Some(self.record(one))),
            _ => Err(NodeError::Other(anyhow::anyhow!(
                "several buckets look like this stack's ({ours:?}); record the right one in the state or delete the others"
            ))),
        }
    }

    async fn create(&self, _inputs: &Inputs) -> Result<Record, NodeError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{}{}", self.prefix(), &id[..12]);
        let mut request = self.aws.s3.create_bucket().bucket(&name);
        // us-east-1 is the one region that takes no location constraint.
        if self.aws.region != "us-east-1" {
            let constraint = BucketLocationConstraint::from(self.aws.region.as_str());
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(constraint)
                    .build(),
            );
        }
        request
            .send()
            .await
            .map_err(|e| sdk_error("CreateBucket", e))?;
        self.tag(&name).await?;
        Ok(self.record(&name))
    }

    async fn delete(&self, _inputs: &Inputs, record: &Record) -> Result<(), NodeError> {
        let gone = |text: &str| text.contains("NoSuchBucket");
        if let Err(e) = self.empty(&record.id).await {
            if gone(&e.to_string()) {
                return Ok(());
            }
            return Err(e);
        }
        match self.aws.s3.delete_bucket().bucket(&record.id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = sdk_error("DeleteBucket", e);
                if gone(&e.to_string()) { Ok(()) } else { Err(e) }
            }
        }
    }
}
