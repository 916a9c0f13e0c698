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
}

mock_provider "aws" {
  alias           = "replica"
  override_during = plan
}

variables {
  name        = "mhp-test"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/data"
}

run "production_buckets" {
  command = plan

  assert {
    condition     = output.audit_exports_bucket == "mhp-test-123456789012-audit-exports"
    error_message = "bucket names carry the account id"
  }
  assert {
    condition     = output.audit_exports_lock.mode == "COMPLIANCE" && output.audit_exports_lock.days >= 2190
    error_message = "audit exports are locked in COMPLIANCE mode by default"
  }
  assert {
    condition     = !var.force_destroy
    error_message = "buckets are never force-destroyed by default"
  }
  assert {
    condition     = toset(keys(output.buckets)) == toset(["logs", "audit-exports", "data", "backups", "key-backups"]) && output.data_bucket == "mhp-test-123456789012-data" && output.backup_to == "s3://mhp-test-123456789012-backups/mhp" && output.backup_keys_to == "s3://mhp-test-123456789012-key-backups/mhp"
    error_message = "an environment makes its data, backups and key-backups buckets by default, and its settings name them"
  }
}

run "lock_mode_reaches_the_bucket" {
  command = plan
  variables {
    audit_lock_mode = "GOVERNANCE"
    audit_lock_days = 1
    force_destroy   = true
  }
  assert {
    condition     = output.audit_exports_lock.mode == "GOVERNANCE"
    error_message = "the demo flavour locks in GOVERNANCE mode so that teardown can remove it"
  }
}
