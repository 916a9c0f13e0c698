# Issue 21: the app and data keys open the key store and the replicated objects in the recovery
# region with the primary region down.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef", key_id = "mrk-0123456789abcdef0123456789abcdef" }
  }
}

mock_provider "aws" {
  alias           = "replica"
  override_during = plan
}

variables {
  name                = "mhp-test"
  replicated_purposes = ["data", "app"]
}

run "app_and_data_keys_have_replicas_in_the_recovery_region" {
  command = plan

  assert {
    condition     = aws_kms_key.this["app"].multi_region && aws_kms_key.this["data"].multi_region
    error_message = "the app and data keys must be multi-Region primaries"
  }
  assert {
    condition     = !aws_kms_key.this["logs"].multi_region && !aws_kms_key.this["secrets"].multi_region
    error_message = "only the replicated purposes are multi-Region"
  }
  assert {
    condition     = toset(keys(aws_kms_replica_key.this)) == toset(["data", "app"])
    error_message = "a replica of the app and data keys in the recovery region"
  }
  assert {
    condition     = aws_kms_replica_key.this["app"].primary_key_arn == aws_kms_key.this["app"].arn
    error_message = "the app replica is a replica of the app key"
  }
  assert {
    condition     = length(aws_kms_key.multi_region) == 0 && length(output.single_region_in_use) == 0
    error_message = "a new environment's keys are the multi-Region primaries: nothing beside them (tests/migration.tftest.hcl: an earlier environment's)"
  }
  assert {
    condition     = aws_kms_alias.replica["app"].name == "alias/mhp-test-app"
    error_message = "the replica has the primary's alias, so configuration by alias works in both regions"
  }
  assert {
    condition     = toset(keys(output.replica_key_arns)) == toset(["data", "app"])
    error_message = "the replica key ARNs are an output (replica buckets, restores)"
  }
}

run "single_region_keys_without_a_recovery_region" {
  command = plan

  variables {
    replicated_purposes = []
  }

  assert {
    condition     = length(aws_kms_replica_key.this) == 0 && !anytrue([for k in aws_kms_key.this : k.multi_region])
    error_message = "no replicas unless asked"
  }
}

run "backup_may_publish_to_its_encrypted_topic" {
  command = plan

  assert {
    condition = contains(flatten([for s in data.aws_iam_policy_document.key["logs"].statement :
      [for p in s.principals : tolist(p.identifiers)] if s.sid == "AlarmAndFindingTopics"
    ]), "backup.amazonaws.com")
    error_message = "AWS Backup's vault notifications publish to a topic encrypted with the logs key"
  }
}
