output "data_bucket" {
  description = "Bucket for raw signals, artifacts and backups (planned MHP key object_store.s3_bucket)."
  value       = module.data.id
}

output "data_bucket_arn" {
  description = "ARN of the data bucket."
  value       = module.data.arn
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
