# AWS Backup: a KMS-encrypted vault, daily and monthly backups of everything tagged
# mhp:backup=true (Aurora cluster, S3 data and audit-export buckets), continuous backup (point-in-
# time restore) where the service supports it, a copy of every recovery point into a vault in
# a second region (aws.copy provider), and in production a vault lock so that nobody can delete
# recovery points before their retention ends.

resource "aws_backup_vault" "this" {
  name          = var.name
  kms_key_arn   = var.kms_key_arn
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_backup_vault" "copy" {
  provider = aws.copy

  name          = "${var.name}-copy"
  kms_key_arn   = var.copy_kms_key_arn
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_backup_vault_lock_configuration" "this" {
  count = var.vault_lock ? 1 : 0

  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = 7
  max_retention_days  = 3650
  changeable_for_days = 3
}

resource "aws_backup_vault_lock_configuration" "copy" {
  count    = var.vault_lock ? 1 : 0
  provider = aws.copy

  backup_vault_name   = aws_backup_vault.copy.name
  min_retention_days  = 7
  max_retention_days  = 3650
  changeable_for_days = 3
}

resource "aws_backup_plan" "this" {
  name = var.name
  tags = var.tags

  rule {
    rule_name                = "daily"
    target_vault_name        = aws_backup_vault.this.name
    schedule                 = "cron(0 4 * * ? *)"
    enable_continuous_backup = true
    start_window             = 60
    completion_window        = 360
    lifecycle {
      delete_after = var.daily_retention_days
    }
    copy_action {
      destination_vault_arn = aws_backup_vault.copy.arn
      lifecycle {
        delete_after = var.daily_retention_days
      }
    }
  }

  rule {
    rule_name         = "monthly"
    target_vault_name = aws_backup_vault.this.name
    schedule          = "cron(0 5 1 * ? *)"
    start_window      = 60
    completion_window = 720
    lifecycle {
      cold_storage_after = var.monthly_retention_days > 180 ? 90 : null
      delete_after       = var.monthly_retention_days
    }
    copy_action {
      destination_vault_arn = aws_backup_vault.copy.arn
      lifecycle {
        cold_storage_after = var.monthly_retention_days > 180 ? 90 : null
        delete_after       = var.monthly_retention_days
      }
    }
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "backup" {
  name                 = "${var.name}-backup"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "backup" {
  for_each = toset([
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
  ])

  role       = aws_iam_role.backup.name
  policy_arn = each.value
}

resource "aws_backup_selection" "tagged" {
  name         = "${var.name}-tagged"
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = aws_iam_role.backup.arn
  resources    = var.resource_arns
}
