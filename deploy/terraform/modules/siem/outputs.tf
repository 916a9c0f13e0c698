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
