# Stand-in for modules/backup in check moto-apply: moto models neither the copy to another region,
# vault lock nor restore testing.
output "vault_name" {
  value = var.name
}

output "copy_vault_arn" {
  value = "arn:aws:backup:us-west-1:123456789012:backup-vault:${var.name}-copy"
}

output "vault_locked" {
  value = var.vault_lock
}

output "monthly_retention_days" {
  value = var.monthly_retention_days
}

output "notifications_topic_arn" {
  value = "arn:aws:sns:us-east-1:123456789012:${var.name}-backup"
}

output "restore_testing_plan" {
  value = null
}

output "resource_arns" {
  value = var.resource_arns
}

output "restore_test_resource_types" {
  value = sort(keys(var.restore_test_resources))
}
