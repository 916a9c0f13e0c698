output "endpoint" {
  description = "HTTPS endpoint inside the VPC (index.opensearch_url or security.opensearch_url)."
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

output "nodes" {
  description = "Data nodes, zones and dedicated masters, as planned (asserted by modules/platform's tests)."
  value = {
    data_nodes = aws_opensearch_domain.this.cluster_config[0].instance_count
    zones      = aws_opensearch_domain.this.cluster_config[0].zone_awareness_config[0].availability_zone_count
    subnets    = length(var.subnet_ids) # a list: its length is known before the subnets are
    masters    = aws_opensearch_domain.this.cluster_config[0].dedicated_master_enabled ? aws_opensearch_domain.this.cluster_config[0].dedicated_master_count : 0
  }
}
