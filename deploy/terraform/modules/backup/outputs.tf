output "vault_name" {
  description = "Backup vault in the environment's region."
  value       = aws_backup_vault.this.name
}

output "copy_vault_arn" {
  description = "Backup vault in the copy region."
  value       = aws_backup_vault.copy.arn
}

output "vault_locked" {
  description = "Whether the vaults are locked."
  value       = length(aws_backup_vault_lock_configuration.this) > 0
}

output "monthly_retention_days" {
  description = "Retention of monthly recovery points."
  value       = var.monthly_retention_days
}

output "notifications_topic_arn" {
  description = "SNS topic of the vault's job notifications."
  value       = aws_sns_topic.notifications.arn
}

output "restore_testing_plan" {
  description = "Name of the restore testing plan, or null."
  value       = one(aws_backup_restore_testing_plan.this[*].name)
}

output "resource_arns" {
  description = "What the daily plan backs up (asserted by modules/platform's tests)."
  value       = aws_backup_selection.tagged.resources
}

output "restore_test_resource_types" {
  description = "The AWS Backup resource types whose restores are tested weekly (Aurora, S3)."
  value       = sort(keys(aws_backup_restore_testing_selection.this))
}
