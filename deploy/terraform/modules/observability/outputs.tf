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

output "s3_replication_alarms" {
  description = "The S3 replication alarms by rule name: the latency and failure alarms' names, the metrics' dimensions, the latency threshold (seconds) and the topics notified; empty without replication rules (asserted by modules/platform's tests)."
  value = { for k in keys(var.s3_replication_rules) : k => {
    latency           = aws_cloudwatch_metric_alarm.s3_replication_latency[k].alarm_name
    failed            = aws_cloudwatch_metric_alarm.s3_replication_failed[k].alarm_name
    dimensions        = aws_cloudwatch_metric_alarm.s3_replication_latency[k].dimensions
    failed_dimensions = aws_cloudwatch_metric_alarm.s3_replication_failed[k].dimensions
    latency_seconds   = aws_cloudwatch_metric_alarm.s3_replication_latency[k].threshold
    alarm_actions     = setunion(aws_cloudwatch_metric_alarm.s3_replication_latency[k].alarm_actions, aws_cloudwatch_metric_alarm.s3_replication_failed[k].alarm_actions)
  } }
}

output "not_ready_missing_data" {
  description = "How the mhp_ready alarm treats no task reporting: breaching, or missing while the service stands by."
  value       = aws_cloudwatch_metric_alarm.not_ready.treat_missing_data
}
