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
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
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
  vpc_cidr                  = "10.40.0.0/16"
  ingest_subnet_ids         = ["subnet-p1", "subnet-p2", "subnet-p3"]
  access_log_bucket         = "mhp-test-123456789012-logs"
  permissions_boundary_arn  = "arn:aws:iam::123456789012:policy/mhp-test-boundary"
  event_log_groups = {
    app        = "/mhp/mhp-test/app"
    worker     = "/mhp/mhp-test/worker"
    security   = "/mhp/mhp-test/security"
    cloudtrail = "/mhp/mhp-test/cloudtrail"
  }
  flow_log_groups = { vpc = "/mhp/mhp-test/vpc-flow-logs" }
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

# Detection that receives data (deploy/README.md): every log group the SIEM should see is
# subscribed to a Firehose stream that delivers, inside the VPC, to this domain.

run "logs_flow_into_the_siem" {
  command = plan

  override_resource {
    target          = aws_kinesis_firehose_delivery_stream.logs
    override_during = plan
    values          = { arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/mhp-test-siem" }
  }
  override_resource {
    target          = module.domain.aws_opensearch_domain.this
    override_during = plan
    values          = { arn = "arn:aws:es:us-east-1:123456789012:domain/mhp-test-siem" }
  }
  override_resource {
    target          = aws_iam_role.subscriptions
    override_during = plan
    values          = { id = "mhp-test-siem-log-subscriptions", arn = "arn:aws:iam::123456789012:role/mhp-test-siem-log-subscriptions" }
  }
  override_resource {
    target          = aws_iam_role.firehose
    override_during = plan
    values          = { id = "mhp-test-siem-firehose", arn = "arn:aws:iam::123456789012:role/mhp-test-siem-firehose" }
  }

  assert {
    condition = toset([for f in aws_cloudwatch_log_subscription_filter.siem : f.log_group_name]) == toset([
      "/mhp/mhp-test/app", "/mhp/mhp-test/worker", "/mhp/mhp-test/security", "/mhp/mhp-test/cloudtrail", "/mhp/mhp-test/vpc-flow-logs",
    ])
    error_message = "the app, worker, security (MHP's OCSF events), CloudTrail and VPC flow log groups are subscribed"
  }
  assert {
    condition     = alltrue([for f in aws_cloudwatch_log_subscription_filter.siem : f.filter_pattern == "" && f.role_arn == aws_iam_role.subscriptions.arn])
    error_message = "every event of a subscribed group is sent, through the subscriptions role"
  }
  assert {
    condition     = aws_cloudwatch_log_subscription_filter.siem["events/security"].destination_arn == aws_kinesis_firehose_delivery_stream.logs["events"].arn && aws_cloudwatch_log_subscription_filter.siem["flows/vpc"].destination_arn == aws_kinesis_firehose_delivery_stream.logs["flows"].arn
    error_message = "JSON events go to the events stream, flow logs to the flows stream"
  }
  assert {
    condition = alltrue([for st in aws_kinesis_firehose_delivery_stream.logs :
      st.destination == "opensearch" && st.opensearch_configuration[0].domain_arn == "arn:aws:es:us-east-1:123456789012:domain/mhp-test-siem"
      && toset(st.opensearch_configuration[0].vpc_config[0].subnet_ids) == toset(var.ingest_subnet_ids)
      && st.opensearch_configuration[0].s3_backup_mode == "FailedDocumentsOnly"
    ])
    error_message = "both streams deliver to the SIEM domain from inside the VPC, keeping refused documents"
  }
  assert {
    condition = (
      toset([for p in aws_kinesis_firehose_delivery_stream.logs["events"].opensearch_configuration[0].processing_configuration[0].processors : p.type]) == toset(["Decompression", "CloudWatchLogProcessing"])
      && toset([for p in aws_kinesis_firehose_delivery_stream.logs["flows"].opensearch_configuration[0].processing_configuration[0].processors : p.type]) == toset(["Decompression"])
    )
    error_message = "CloudWatch Logs batches are decompressed; JSON events are extracted one per document"
  }
  assert {
    condition     = aws_iam_role.firehose.permissions_boundary == var.permissions_boundary_arn && aws_iam_role.subscriptions.permissions_boundary == var.permissions_boundary_arn
    error_message = "the Firehose and subscriptions roles carry the permissions boundary"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.firehose.statement :
      contains(s.actions, "es:ESHttpPost") && toset(s.resources) == toset(["arn:aws:es:us-east-1:123456789012:domain/mhp-test-siem", "arn:aws:es:us-east-1:123456789012:domain/mhp-test-siem/*"])
    ])
    error_message = "Firehose may write to the SIEM domain only"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.subscriptions.statement :
      contains(s.actions, "firehose:PutRecordBatch") && toset(s.resources) == toset([for st in aws_kinesis_firehose_delivery_stream.logs : st.arn])
    ])
    error_message = "CloudWatch Logs may put records into the SIEM streams only"
  }
}
