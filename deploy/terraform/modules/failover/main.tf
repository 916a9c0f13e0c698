# Route 53 failover of the public host (issue 21, RTO): a health check of the primary load
# balancer's /readyz over HTTPS (MHP answers 200 only when it can serve: database and key store
# reachable), a PRIMARY alias record on it, and, when the recovery region serves (the recovery
# environment's load balancer given as `secondary`), a SECONDARY alias record that Route 53
# answers while the primary is unhealthy. Off unless the environment names its hosted zone.

data "aws_lb" "primary" {
  arn = var.load_balancer_arn
}

resource "aws_route53_health_check" "primary" {
  type              = "HTTPS"
  fqdn              = data.aws_lb.primary.dns_name
  port              = 443
  resource_path     = "/readyz"
  enable_sni        = true
  request_interval  = var.request_interval
  failure_threshold = var.failure_threshold
  measure_latency   = true
  tags              = merge(var.tags, { Name = "${var.name}-readyz" })
}

resource "aws_route53_record" "primary" {
  zone_id         = var.hosted_zone_id
  name            = var.public_host
  type            = "A"
  set_identifier  = "${var.name}-primary"
  health_check_id = aws_route53_health_check.primary.id

  failover_routing_policy {
    type = "PRIMARY"
  }

  alias {
    name                   = data.aws_lb.primary.dns_name
    zone_id                = data.aws_lb.primary.zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "secondary" {
  count = var.secondary == null ? 0 : 1

  zone_id        = var.hosted_zone_id
  name           = var.public_host
  type           = "A"
  set_identifier = "${var.name}-secondary"

  failover_routing_policy {
    type = "SECONDARY"
  }

  alias {
    name                   = var.secondary.dns_name
    zone_id                = var.secondary.zone_id
    evaluate_target_health = true
  }
}
