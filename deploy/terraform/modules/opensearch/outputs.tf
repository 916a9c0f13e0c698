output "endpoint" {
  description = "HTTPS endpoint inside the VPC (planned MHP key search.opensearch_url or siem.opensearch_url)."
  value       = "https://${aws_opensearch_domain.this.endpoint}"
}

output "domain_name" {
  description = "Domain name."
  value       = aws_opensearch_domain.this.domain_name
}

output "arn" {
  description = "Domain ARN."
  value       = aws_opensearch_domain.this.arn
}
