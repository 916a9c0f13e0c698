# Issue 21: the public host fails over to the recovery region when the primary's /readyz fails.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_lb" {
    defaults = { dns_name = "mhp-test-123.us-east-1.elb.amazonaws.com", zone_id = "Z35SXDOTRQ7X7K" }
  }
  mock_resource "aws_route53_health_check" {
    defaults = { id = "hc-0123" }
  }
}

variables {
  name              = "mhp-test"
  hosted_zone_id    = "Z0123456789"
  public_host       = "mhp.example.org"
  load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/mhp-test/0123"
  secondary         = { dns_name = "mhp-test-456.us-west-1.elb.amazonaws.com", zone_id = "Z368ELLRRE2KJ0" }
}

run "primary_is_health_checked_on_readyz" {
  command = plan

  assert {
    condition     = aws_route53_health_check.primary.type == "HTTPS" && aws_route53_health_check.primary.resource_path == "/readyz" && aws_route53_health_check.primary.fqdn == "mhp-test-123.us-east-1.elb.amazonaws.com"
    error_message = "the primary load balancer's /readyz is checked over HTTPS"
  }
  assert {
    condition     = output.detection_seconds <= 60
    error_message = "an outage is detected within a minute"
  }
  assert {
    condition     = aws_route53_record.primary.failover_routing_policy[0].type == "PRIMARY" && aws_route53_record.primary.health_check_id == aws_route53_health_check.primary.id
    error_message = "the PRIMARY record follows the health check"
  }
}

run "secondary_answers_when_the_primary_fails" {
  command = plan

  assert {
    condition     = aws_route53_record.secondary[0].failover_routing_policy[0].type == "SECONDARY" && aws_route53_record.secondary[0].name == var.public_host
    error_message = "a SECONDARY record of the same name points at the recovery region"
  }
  assert {
    condition     = one(aws_route53_record.secondary[0].alias).name == var.secondary.dns_name
    error_message = "the SECONDARY record aliases the recovery region's load balancer"
  }
}

run "no_secondary_until_the_recovery_region_serves" {
  command = plan

  variables {
    secondary = null
  }

  assert {
    condition     = length(aws_route53_record.secondary) == 0
    error_message = "no SECONDARY record without a recovery load balancer"
  }
}
