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

output "global_endpoint" {
  description = "Global database writer endpoint (follows the writer through a managed failover or switchover), or null."
  value       = one(aws_rds_global_cluster.this[*].endpoint)
}

output "secondary" {
  description = "The secondary cluster in the recovery region, or null: identifier, ARN, cluster endpoint (the writer's once promoted), security group (no clients until the recovery environment adds them), instances (0: headless)."
  value = one([for c in aws_rds_cluster.secondary : {
    cluster_identifier = c.cluster_identifier
    arn                = c.arn
    endpoint           = c.endpoint
    security_group_id  = aws_security_group.secondary[0].id
    subnet_group       = aws_db_subnet_group.secondary[0].name
    instance_count     = length(aws_rds_cluster_instance.secondary)
    kms_key_arn        = c.kms_key_id
  }])
}

output "secondary_lag_alarms" {
  description = "The secondary's lag alarms in the recovery region (rpo: AuroraGlobalDBRPOLag, replication: AuroraGlobalDBReplicationLag), by kind: name, metric, threshold (ms), missing-data treatment, topics; empty without a secondary."
  value = { for k, a in aws_cloudwatch_metric_alarm.secondary_lag : k => {
    name               = a.alarm_name
    metric             = a.metric_name
    threshold_ms       = a.threshold
    treat_missing_data = a.treat_missing_data
    alarm_actions      = a.alarm_actions
    dimensions         = a.dimensions
    arn                = a.arn
  } }
}
