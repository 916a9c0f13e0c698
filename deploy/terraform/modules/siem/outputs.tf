output "endpoint" {
  description = "SIEM endpoint inside the VPC (security.opensearch_url)."
  value       = module.domain.endpoint
}

output "domain_name" {
  description = "Domain name."
  value       = module.domain.domain_name
}

output "security_alert_topic_arn" {
  description = "SNS topic of security alerts."
  value       = aws_sns_topic.security_alerts.arn
}

output "arn" {
  description = "Domain ARN."
  value       = module.domain.arn
}

output "nodes" {
  description = "Data nodes, zones and dedicated masters of the SIEM domain, as planned."
  value       = module.domain.nodes
}

output "ingest_stream_arns" {
  description = "Firehose delivery streams into the SIEM, by kind (events, flows)."
  value       = { for k, st in aws_kinesis_firehose_delivery_stream.logs : k => st.arn }
}

output "firehose_role_arn" {
  description = "Firehose's role: map it to an OpenSearch security-plugin role that may write cwl-* (deploy/README.md)."
  value       = aws_iam_role.firehose.arn
}

output "subscribed_log_groups" {
  description = "Log groups subscribed to the SIEM streams, as <stream>/<key> => log group name."
  value       = { for k, v in local.subscriptions : k => v.log_group }
}
