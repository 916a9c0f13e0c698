output "id" {
  description = "Bucket name."
  value       = aws_s3_bucket.this.bucket
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}

output "object_lock" {
  description = "Default object-lock retention (mode and days), or null."
  value       = var.object_lock_mode == null ? null : { mode = var.object_lock_mode, days = var.object_lock_days }
}
