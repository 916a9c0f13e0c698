output "data_bucket" {
  description = "Bucket for raw signals and artifacts (object_store.bucket); null without data_buckets."
  value       = one(module.data[*].id)
}

output "data_bucket_arn" {
  description = "ARN of the data bucket; null without data_buckets."
  value       = one(module.data[*].arn)
}

output "audit_exports_bucket" {
  description = "Object-locked bucket for audit exports (planned MHP key audit.export_s3_bucket)."
  value       = module.audit_exports.id
}

output "audit_exports_bucket_arn" {
  description = "ARN of the audit-export bucket."
  value       = module.audit_exports.arn
}

output "logs_bucket" {
  description = "Access-log bucket (load balancer and S3)."
  value       = module.logs.id
}

output "audit_exports_lock" {
  description = "Object-lock retention applied to audit exports."
  value       = module.audit_exports.object_lock
}

output "backup_to" {
  description = "backup.to: MHP's backups; null without data_buckets."
  value       = one([for b in module.backups : "s3://${b.id}/mhp"])
}

output "backup_keys_to" {
  description = "backup.keys_to: the key store's backups, in a bucket apart; null without data_buckets."
  value       = one([for b in module.key_backups : "s3://${b.id}/mhp"])
}

output "backup_bucket_arns" {
  description = "ARNs of the backups and key-backups buckets; empty without data_buckets."
  value       = concat(module.backups[*].arn, module.key_backups[*].arn)
}

output "buckets" {
  description = "Every bucket the module makes in the environment's region, by purpose (logs, audit-exports; with data_buckets data, backups, key-backups): a recovery environment's tests assert what it does not make."
  value = merge(
    { logs = module.logs.id, "audit-exports" = module.audit_exports.id },
    { for b in module.data : "data" => b.id },
    { for b in module.backups : "backups" => b.id },
    { for b in module.key_backups : "key-backups" => b.id },
  )
}

output "replica_buckets" {
  description = "Replica bucket in the recovery region by source (data, backups, key-backups); empty without replication."
  value       = { for k, v in module.replica : k => v.id }
}

output "replication_role_arn" {
  description = "Role S3 replicates with, or null."
  value       = one(aws_iam_role.replication[*].arn)
}

output "replication_rules" {
  description = "Each replicated bucket's replication rule by source (data, backups, key-backups): source_bucket, destination_bucket, rule_id (the dimensions of S3's replication metrics, with Replication Time Control and metrics on), rtc_minutes; empty without replication."
  value = { for k, c in aws_s3_bucket_replication_configuration.this : k => {
    source_bucket      = local.replicated[k].id
    destination_bucket = module.replica[k].id
    rule_id            = local.replication_rule_id
    rtc_minutes        = c.rule[0].destination[0].replication_time[0].time[0].minutes
  } }
}
