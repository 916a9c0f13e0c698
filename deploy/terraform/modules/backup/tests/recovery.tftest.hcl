# Issue 21: every backup, copy and restore job is reported, and a restore is tested weekly.
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
  mock_resource "aws_backup_vault" {
    defaults = { arn = "arn:aws:backup:us-east-1:123456789012:backup-vault:mhp-test" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mhp-test-backup" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mhp-test-backup" }
  }
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/copy-mocks"
}

variables {
  notification_emails = ["ops@example.org"]
  restore_test_resources = {
    Aurora = ["arn:aws:rds:us-east-1:123456789012:cluster:mhp-test"]
    S3     = ["arn:aws:s3:::mhp-test-data"]
  }
  restore_metadata_overrides = {
    Aurora = { dbsubnetgroupname = "mhp-test", vpcsecuritygroupids = "[\"sg-1\"]" }
  }
}

run "vault_jobs_are_notified" {
  command = plan

  assert {
    condition     = aws_backup_vault_notifications.this.sns_topic_arn == aws_sns_topic.notifications.arn && aws_backup_vault_notifications.this.backup_vault_name == aws_backup_vault.this.name
    error_message = "the vault reports its jobs to the notifications topic"
  }
  assert {
    condition     = length(setsubtract(["BACKUP_JOB_COMPLETED", "COPY_JOB_FAILED", "RESTORE_JOB_COMPLETED"], aws_backup_vault_notifications.this.backup_vault_events)) == 0
    error_message = "backup results, failed copies and restore results (restore tests) are notified"
  }
  assert {
    condition     = aws_sns_topic.notifications.kms_master_key_id == var.notifications_kms_key_arn
    error_message = "the topic is encrypted with the customer key"
  }
  assert {
    condition     = one(one(data.aws_iam_policy_document.notifications.statement).principals).identifiers == toset(["backup.amazonaws.com"])
    error_message = "AWS Backup may publish to the topic"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.notifications) == 1
    error_message = "operators are subscribed"
  }
}

run "restores_are_tested_weekly" {
  command = plan

  assert {
    condition     = length(aws_backup_restore_testing_plan.this) == 1 && aws_backup_restore_testing_plan.this[0].name == "mhp_test_restore_test"
    error_message = "a restore testing plan (name of letters, digits and underscores)"
  }
  assert {
    condition     = one(aws_backup_restore_testing_plan.this[0].recovery_point_selection).algorithm == "LATEST_WITHIN_WINDOW" && one(aws_backup_restore_testing_plan.this[0].recovery_point_selection).include_vaults == toset([aws_backup_vault.this.arn])
    error_message = "the newest recovery point of the environment's vault is restored"
  }
  assert {
    condition     = toset(keys(aws_backup_restore_testing_selection.this)) == toset(["Aurora", "S3"])
    error_message = "the Aurora cluster and the data bucket are restore-tested"
  }
  assert {
    condition     = aws_backup_restore_testing_selection.this["Aurora"].restore_metadata_overrides["dbsubnetgroupname"] == "mhp-test"
    error_message = "Aurora restores into the environment's network"
  }
}
