# Stand-in for modules/siem in check moto-apply: it wraps modules/opensearch (no domain in moto)
# and feeds it through Firehose in the VPC. The endpoint goes into the SSM parameter
# security.opensearch_url, which is applied.
output "endpoint" {
  value = "https://vpc-${var.name}-stub.us-east-1.es.amazonaws.com"
}

output "domain_name" {
  value = var.name
}

output "security_alert_topic_arn" {
  value = "arn:aws:sns:us-east-1:123456789012:${var.name}-security-alerts"
}

output "arn" {
  value = "arn:aws:es:us-east-1:123456789012:domain/${var.name}"
}

output "nodes" {
  value = null
}

output "ingest_stream_arns" {
  value = {}
}

output "firehose_role_arn" {
  value = "arn:aws:iam::123456789012:role/${var.name}-firehose"
}

output "subscribed_log_groups" {
  value = var.event_log_groups
}
