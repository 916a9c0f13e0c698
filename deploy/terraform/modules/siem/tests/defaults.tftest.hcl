mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name                      = "mhp-test-siem"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-a", "subnet-b", "subnet-c"]
  client_security_group_ids = { app = "sg-app" }
  client_role_arns          = ["arn:aws:iam::123456789012:role/mhp-test-app"]
  master_role_arn           = "arn:aws:iam::123456789012:role/mhp-test-opensearch-admin"
  kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/search"
  logs_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/logs"
}

run "findings_reach_the_alert_topic" {
  command = plan

  assert {
    condition     = aws_sns_topic.security_alerts.kms_master_key_id == var.logs_kms_key_arn
    error_message = "the alert topic is encrypted"
  }
  assert {
    condition     = strcontains(aws_cloudwatch_event_rule.findings.event_pattern, "aws.guardduty") && strcontains(aws_cloudwatch_event_rule.findings.event_pattern, "aws.securityhub")
    error_message = "GuardDuty and Security Hub findings become alerts"
  }
  assert {
    condition     = var.log_retention_days >= 2192
    error_message = "the SIEM keeps its own logs six years"
  }
}

# Apply-time (deploy/README.md, "Apply-time checks"): the SIEM domain's data nodes divide over
# its zones.

run "data_nodes_divide_over_the_zones" {
  command = plan
  assert {
    condition     = output.nodes.data_nodes % output.nodes.zones == 0 && output.nodes.zones == length(var.subnet_ids)
    error_message = "data nodes divide evenly over the zones"
  }
}

run "two_data_nodes_over_three_zones_are_refused" {
  command = plan
  variables {
    instance_count   = 2
    dedicated_master = false
  }
  expect_failures = [var.instance_count]
}
