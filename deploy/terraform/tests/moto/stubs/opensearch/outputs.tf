# Stand-in for modules/opensearch in check moto-apply: moto's OpenSearch runs no domain. The
# endpoint goes into the SSM parameter index.opensearch_url, which is applied.
output "endpoint" {
  value = "https://vpc-${var.name}-stub.us-east-1.es.amazonaws.com"
}

output "domain_name" {
  value = var.name
}

output "arn" {
  value = "arn:aws:es:us-east-1:123456789012:domain/${var.name}"
}

output "nodes" {
  value = null
}
