output "key_arns" {
  description = "Key ARN by purpose (data, logs, search, secrets, app)."
  value       = { for k, v in aws_kms_key.this : k => v.arn }
}

output "key_ids" {
  description = "Key id by purpose."
  value       = { for k, v in aws_kms_key.this : k => v.key_id }
}

output "aliases" {
  description = "Alias name by purpose."
  value       = { for k, v in aws_kms_alias.this : k => v.name }
}

output "replica_key_arns" {
  description = "Replica key ARN in the recovery region by purpose (only the replicated purposes)."
  value       = { for k, v in aws_kms_replica_key.this : k => v.arn }
}
