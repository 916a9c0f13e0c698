# Stand-in for modules/aurora in check moto-apply: moto's RDS does not run Aurora. The cluster
# identifier is the real module's (var.name): the applied alarms name it.
output "cluster_arn" {
  value = "arn:aws:rds:us-east-1:123456789012:cluster:${var.name}"
}

output "cluster_identifier" {
  value = var.name
}

output "endpoint" {
  value = "${var.name}.cluster-stub.us-east-1.rds.amazonaws.com"
}

output "reader_endpoint" {
  value = "${var.name}.cluster-ro-stub.us-east-1.rds.amazonaws.com"
}

output "port" {
  value = 5432
}

output "master_user_secret_arn" {
  value = null
}

output "security_group_id" {
  value = "sg-0a000000000000003"
}

output "deletion_protection" {
  value = var.deletion_protection
}

output "backup_retention_days" {
  value = var.backup_retention_days
}

output "global_cluster_identifier" {
  value = null
}

output "secondary_cluster_identifier" {
  value = null
}

output "global_endpoint" {
  value = null
}

output "secondary" {
  value = null
}

output "secondary_lag_alarms" {
  value = {}
}
