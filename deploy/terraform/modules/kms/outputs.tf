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

output "multi_region_key_arns" {
  description = "The multi-Region primary of each replicated purpose: the purpose's key when it was made multi-Region, else the key beside it."
  value       = { for k, v in local.multi_region_primaries : k => v.arn }
}

output "single_region_in_use" {
  description = "Replicated purposes whose key in use (key_arns) is an earlier single-Region key, kept with a multi-Region key beside it: what that key encrypts does not open in the recovery region (deploy/README.md \"Multi-Region keys: the migration\")."
  value       = sort(keys(aws_kms_key.multi_region))
}
