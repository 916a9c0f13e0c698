output "health_check_id" {
  description = "Route 53 health check of the primary's /readyz."
  value       = aws_route53_health_check.primary.id
}

output "detection_seconds" {
  description = "Time to declare the primary unhealthy: request_interval x failure_threshold."
  value       = var.request_interval * var.failure_threshold
}
