# Issue 21: objects and MHP's backups reach the recovery region within 15 minutes (cross-region
# RPO), encrypted there with the replica of the data key, by a role that can do nothing else.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_elb_service_account" {
    defaults = { arn = "arn:aws:iam::127311923021:root" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mhp-test-s3-replication" }
  }
}

mock_provider "aws" {
  alias           = "replica"
  override_during = plan
  mock_data "aws_region" {
    defaults = { name = "us-west-1" }
  }
}

variables {
  name                     = "mhp-test"
  kms_key_arn              = "arn:aws:kms:us-east-1:123456789012:key/mrk-data"
  replication              = true
  replica_kms_key_arn      = "arn:aws:kms:us-west-1:123456789012:key/mrk-data"
  permissions_boundary_arn = "arn:aws:iam::123456789012:policy/mhp-test-boundary"
}

run "data_and_backups_replicate_to_the_recovery_region" {
  command = plan

  assert {
    condition     = toset(keys(aws_s3_bucket_replication_configuration.this)) == toset(["data", "backups", "key-backups"])
    error_message = "the data, backups and key-backups buckets are replicated"
  }
  assert {
    condition     = output.replica_buckets == { data = "mhp-test-123456789012-data-replica", backups = "mhp-test-123456789012-backups-replica", "key-backups" = "mhp-test-123456789012-key-backups-replica" }
    error_message = "one replica bucket per source in the recovery region"
  }
  assert {
    condition = alltrue([for k, c in aws_s3_bucket_replication_configuration.this :
      c.rule[0].destination[0].replication_time[0].status == "Enabled" && c.rule[0].destination[0].replication_time[0].time[0].minutes == 15
    ])
    error_message = "Replication Time Control (15 minutes) bounds the cross-region RPO of objects"
  }
  assert {
    condition = alltrue([for k, c in aws_s3_bucket_replication_configuration.this :
      c.rule[0].destination[0].metrics[0].status == "Enabled" && c.rule[0].destination[0].metrics[0].event_threshold[0].minutes == 15
    ])
    error_message = "replication metrics are on (ReplicationLatency, OperationsFailedReplication: what the alarms of modules/observability watch)"
  }
  assert {
    condition = output.replication_rules == {
      data          = { source_bucket = "mhp-test-123456789012-data", destination_bucket = "mhp-test-123456789012-data-replica", rule_id = "recovery-region", rtc_minutes = 15 }
      backups       = { source_bucket = "mhp-test-123456789012-backups", destination_bucket = "mhp-test-123456789012-backups-replica", rule_id = "recovery-region", rtc_minutes = 15 }
      "key-backups" = { source_bucket = "mhp-test-123456789012-key-backups", destination_bucket = "mhp-test-123456789012-key-backups-replica", rule_id = "recovery-region", rtc_minutes = 15 }
    } && alltrue([for k, c in aws_s3_bucket_replication_configuration.this : c.rule[0].id == output.replication_rules[k].rule_id])
    error_message = "the output names each rule by the dimensions of its replication metrics (SourceBucket, DestinationBucket, RuleId)"
  }
  assert {
    condition = alltrue([for k, c in aws_s3_bucket_replication_configuration.this :
      c.rule[0].destination[0].encryption_configuration[0].replica_kms_key_id == var.replica_kms_key_arn &&
      c.rule[0].source_selection_criteria[0].sse_kms_encrypted_objects[0].status == "Enabled"
    ])
    error_message = "SSE-KMS objects are replicated and encrypted with the replica of the data key"
  }
  assert {
    condition     = length(module.replica) == 3 && length(module.replica_logs) == 1
    error_message = "replica buckets (with their own access-log bucket) exist in the recovery region"
  }
  assert {
    condition     = aws_iam_role.replication[0].permissions_boundary == var.permissions_boundary_arn
    error_message = "the replication role carries the permissions boundary"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.replication[0].statement :
      !anytrue([for a in s.actions : strcontains(a, "*")]) && !contains(s.resources, "*")
    ])
    error_message = "the replication role has no wildcard action or resource"
  }
  assert {
    condition     = jsonencode(one(one([for s in data.aws_iam_policy_document.replication[0].statement : s.condition if s.sid == "EncryptReplicas"])).values) == jsonencode(["s3.us-west-1.amazonaws.com"]) && jsonencode(one([for s in data.aws_iam_policy_document.replication[0].statement : s.resources if s.sid == "EncryptReplicas"])) == jsonencode([var.replica_kms_key_arn])
    error_message = "the role encrypts with the replica key only, only through S3 in the recovery region"
  }
}

run "no_replication_by_default" {
  command = plan

  variables {
    replication = false
  }

  assert {
    condition     = length(aws_s3_bucket_replication_configuration.this) == 0 && length(aws_iam_role.replication) == 0 && length(module.replica) == 0 && length(output.replication_rules) == 0
    error_message = "non-production environments keep AWS Backup copies only"
  }
}

# A recovery environment (modules/platform recovery_of) uses the replicas its source keeps in its
# region: it makes no data, backups or key-backups bucket, and replicates nothing.
run "a_recovery_environment_makes_no_data_buckets" {
  command = plan

  variables {
    replication         = false
    replica_kms_key_arn = null
    data_buckets        = false
  }

  assert {
    condition     = length(module.data) == 0 && length(module.backups) == 0 && length(module.key_backups) == 0
    error_message = "no data, backups or key-backups bucket without data_buckets"
  }
  assert {
    condition     = output.buckets == { logs = "mhp-test-123456789012-logs", "audit-exports" = "mhp-test-123456789012-audit-exports" }
    error_message = "the audit-exports and logs buckets are made all the same"
  }
  assert {
    condition     = output.data_bucket == null && output.data_bucket_arn == null && output.backup_to == null && output.backup_keys_to == null && length(output.backup_bucket_arns) == 0
    error_message = "no setting names a bucket that is not made"
  }
}

run "replication_needs_the_data_buckets" {
  command = plan

  variables {
    data_buckets = false
  }
  expect_failures = [var.replication]
}
