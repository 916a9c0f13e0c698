output "syslog_address" {
  description = "What MHP sends its security events to (security.syslog_address / MHP_SECURITY_SYSLOG_ADDRESS): host_name:6514, TLS."
  value       = "${var.host_name}:${local.syslog_port}"
}

output "api_secret_arn" {
  description = "Secret holding the API password of the manager's wazuh user."
  value       = aws_secretsmanager_secret.api.arn
}

output "security_group_id" {
  description = "Security group of the manager's task."
  value       = aws_security_group.manager.id
}

output "load_balancer_security_group_id" {
  description = "Security group of the internal load balancer (syslog over TLS from the client groups only)."
  value       = aws_security_group.lb.id
}

output "file_system_arn" {
  description = "EFS file system of the manager's state (to back up)."
  value       = aws_efs_file_system.state.arn
}

output "alerts_log_group_name" {
  description = "Log group of the manager's alerts (one JSON alert per event)."
  value       = aws_cloudwatch_log_group.alerts.name
}

output "log_group_name" {
  description = "Log group of the manager and its init container."
  value       = aws_cloudwatch_log_group.manager.name
}

output "service_name" {
  description = "ECS service of the manager."
  value       = aws_ecs_service.this.name
}

output "config_bucket" {
  description = "Bucket holding the manager's and the relay's configuration and MHP's decoder and rules, as uploaded from deploy/wazuh/."
  value       = module.config_bucket.id
}

output "config_version" {
  description = "Digest of the delivered files (a change rolls the task)."
  value       = local.config_version
}

output "client_security_group_ids" {
  description = "The security groups allowed to send syslog (by key), as given."
  value       = var.client_security_group_ids
}
