output "cluster_arn" {
  description = "Cluster ARN (selected by AWS Backup)."
  value       = aws_rds_cluster.this.arn
}

output "cluster_identifier" {
  description = "Cluster identifier (CloudWatch dimension)."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "endpoint" {
  description = "Writer endpoint: the host of DATABASE_URL."
  value       = aws_rds_cluster.this.endpoint
}

output "reader_endpoint" {
  description = "Reader endpoint."
  value       = aws_rds_cluster.this.reader_endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = local.port
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret that RDS keeps for the master user (break-glass only)."
  value       = try(aws_rds_cluster.this.master_user_secret[0].secret_arn, null)
}

output "security_group_id" {
  description = "Security group of the cluster."
  value       = aws_security_group.this.id
}

output "deletion_protection" {
  description = "Whether the cluster refuses deletion."
  value       = aws_rds_cluster.this.deletion_protection
}

output "backup_retention_days" {
  description = "Point-in-time recovery window."
  value       = aws_rds_cluster.this.backup_retention_period
}

output "global_cluster_identifier" {
  description = "Global database identifier, or null."
  value       = one(aws_rds_global_cluster.this[*].global_cluster_identifier)
}

output "secondary_cluster_identifier" {
  description = "Secondary cluster in the recovery region, or null."
  value       = one(aws_rds_cluster.secondary[*].cluster_identifier)
}
