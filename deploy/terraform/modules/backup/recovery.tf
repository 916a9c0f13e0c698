# Issue 21: AWS Backup reports every job to an SNS topic (vault notifications), and restore
# testing restores the newest recovery point of each protected resource weekly, measures how long
# the restore takes (RTO of a backup restore, in AWS Backup's restore testing jobs) and deletes
# the restored copy: a backup nobody restored is not known to restore.

data "aws_caller_identity" "current" {}

resource "aws_sns_topic" "notifications" {
  name              = "${var.name}-backup"
  kms_master_key_id = var.notifications_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "notifications" {
  statement {
    sid       = "BackupPublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications.arn]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "notifications" {
  arn    = aws_sns_topic.notifications.arn
  policy = data.aws_iam_policy_document.notifications.json
}

resource "aws_sns_topic_subscription" "notifications" {
  for_each = toset(var.notification_emails)

  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = each.value
}

# BACKUP_JOB_COMPLETED and RESTORE_JOB_COMPLETED carry the state (a failed job is a completed one
# with state FAILED); restore testing's restores arrive as restore jobs.
resource "aws_backup_vault_notifications" "this" {
  backup_vault_name = aws_backup_vault.this.name
  sns_topic_arn     = aws_sns_topic.notifications.arn
  backup_vault_events = [
    "BACKUP_JOB_COMPLETED",
    "COPY_JOB_FAILED",
    "RESTORE_JOB_COMPLETED",
    "RECOVERY_POINT_MODIFIED",
    "S3_BACKUP_OBJECT_FAILED",
    "S3_RESTORE_OBJECT_FAILED",
  ]

  depends_on = [aws_sns_topic_policy.notifications]
}

resource "aws_backup_restore_testing_plan" "this" {
  count = length(var.restore_test_resources) > 0 ? 1 : 0

  name                = replace("${var.name}_restore_test", "-", "_")
  schedule_expression = var.restore_test_schedule
  start_window_hours  = 4

  recovery_point_selection {
    algorithm             = "LATEST_WITHIN_WINDOW"
    include_vaults        = [aws_backup_vault.this.arn]
    recovery_point_types  = ["CONTINUOUS", "SNAPSHOT"]
    selection_window_days = 7
  }

  tags = var.tags
}

resource "aws_backup_restore_testing_selection" "this" {
  for_each = var.restore_test_resources

  name                       = replace(lower(each.key), "-", "_")
  restore_testing_plan_name  = aws_backup_restore_testing_plan.this[0].name
  protected_resource_type    = each.key
  protected_resource_arns    = each.value
  iam_role_arn               = aws_iam_role.backup.arn
  restore_metadata_overrides = lookup(var.restore_metadata_overrides, each.key, null)
}
