mock_provider "aws" {
  override_during = plan
}

variables {
  name              = "mhp-test"
  load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/mhp-test/0123456789abcdef"
  logs_kms_key_arn  = "arn:aws:kms:us-east-1:123456789012:key/logs"
}

run "managed_rules_rate_limit_and_logging" {
  command = plan

  assert {
    condition     = length([for r in aws_wafv2_web_acl.this.rule : r if r.name == "AWSManagedRulesKnownBadInputsRuleSet"]) == 1
    error_message = "known bad inputs (Log4j) rules are on"
  }
  assert {
    condition     = length([for r in aws_wafv2_web_acl.this.rule : r if r.name == "rate-limit-per-address"]) == 1
    error_message = "requests are rate limited per address"
  }
  assert {
    condition     = aws_cloudwatch_log_group.waf.kms_key_id == var.logs_kms_key_arn && startswith(aws_cloudwatch_log_group.waf.name, "aws-waf-logs-")
    error_message = "WAF logs go to an encrypted log group"
  }
  assert {
    condition     = length(aws_wafv2_web_acl_logging_configuration.this.redacted_fields) == 2
    error_message = "authorization and cookie headers are redacted from WAF logs"
  }
  assert {
    condition     = aws_wafv2_web_acl_association.this.resource_arn == var.load_balancer_arn
    error_message = "the web ACL protects the load balancer"
  }
}
