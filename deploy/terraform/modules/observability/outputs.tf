output "log_group_names" {
  description = "Log group name by process (app, worker, scheduler, collector)."
  value       = { for k, v in aws_cloudwatch_log_group.this : k => v.name }
}

output "log_group_arns" {
  description = "Log group ARN by process."
  value       = { for k, v in aws_cloudwatch_log_group.this : k => v.arn }
}

output "collector_config" {
  description = "ADOT collector configuration (AOT_CONFIG_CONTENT of the metrics sidecar)."
  value       = local.collector_config
}

output "alarm_topic_arn" {
  description = "SNS topic of every alarm."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_topic_ses_configuration_sets" {
  description = "SES configuration sets whose bounce and complaint events the alarm topic's policy admits."
  value       = var.ses_configuration_set_arns
}
