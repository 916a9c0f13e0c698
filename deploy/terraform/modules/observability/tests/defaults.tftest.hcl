mock_provider "aws" {
  override_during = plan
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  name                    = "mhp-test"
  environment             = "test"
  account_id              = "123456789012"
  logs_kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/logs"
  alb_arn_suffix          = "app/mhp-test/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/mhp-test/0123456789abcdef"
  ecs_cluster_name        = "mhp-test"
  ecs_service_name        = "mhp-app"
  db_cluster_identifier   = "mhp-test"
  opensearch_domain_names = ["mhp-test-docs", "mhp-test-siem"]
}

run "alarms_on_mhp_metrics_and_encrypted_logs" {
  command = plan

  assert {
    condition     = aws_cloudwatch_metric_alarm.not_ready.metric_name == "mhp_ready" && aws_cloudwatch_metric_alarm.not_ready.treat_missing_data == "breaching"
    error_message = "an alarm watches mhp_ready, and silence counts as not ready"
  }
  assert {
    condition     = length([for q in aws_cloudwatch_metric_alarm.db_pool_saturated.metric_query : q if try(q.metric[0].metric_name, "") == "mhp_db_pool_connections"]) == 1
    error_message = "an alarm watches the database pool"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.http_5xx.metric_name == "mhp_http_requests_total"
    error_message = "an alarm watches MHP's request counter"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == var.logs_kms_key_arn && g.retention_in_days >= 365])
    error_message = "log groups are encrypted and kept at least a year"
  }
  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == var.logs_kms_key_arn
    error_message = "the alarm topic is encrypted"
  }
  assert {
    condition     = strcontains(output.collector_config, "127.0.0.1:8080") && strcontains(output.collector_config, "mhp_ready")
    error_message = "the collector scrapes MHP's /metrics"
  }
  assert {
    condition = alltrue([
      yamldecode(output.collector_config).receivers.otlp.protocols.http.endpoint == "127.0.0.1:4318",
      yamldecode(output.collector_config).service.pipelines.traces.exporters == ["awsxray"],
    ])
    error_message = "the collector takes MHP's spans on the task's loopback and sends them to X-Ray"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.opensearch_red) == 2
    error_message = "both OpenSearch domains are watched"
  }
  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.availability_burn["1h"].threshold == 0.0144,
      aws_cloudwatch_metric_alarm.availability_burn["5m"].threshold == 0.0144,
      aws_cloudwatch_metric_alarm.availability_burn["6h"].threshold == 0.006,
      aws_cloudwatch_metric_alarm.availability_burn["30m"].threshold == 0.006,
      strcontains(aws_cloudwatch_composite_alarm.availability_burn_fast.alarm_rule, " AND "),
    ])
    error_message = "the availability burn-rate page has the thresholds of deploy/prometheus/mhp-rules.yml (14.4x over 1 h and 5 m, 6x over 6 h and 30 m, of a 0.1 % budget)"
  }
  assert {
    condition = alltrue([
      aws_cloudwatch_metric_alarm.read_latency_burn["1h"].threshold == 0.144,
      aws_cloudwatch_metric_alarm.read_latency_burn["5m"].threshold == 0.144,
      aws_cloudwatch_metric_alarm.read_latency_burn["6h"].threshold == 0.06,
      aws_cloudwatch_metric_alarm.read_latency_burn["30m"].threshold == 0.06,
      strcontains(aws_cloudwatch_composite_alarm.read_latency_burn_fast.alarm_rule, " AND "),
    ])
    error_message = "the read-latency burn-rate page has the thresholds of deploy/prometheus/mhp-rules.yml (14.4x over 1 h and 5 m, 6x over 6 h and 30 m, of a 1 % budget)"
  }
}

# Who may publish to the alarm topic: CloudWatch alarms of this account and, when the environment
# sends e-mail (modules/mail), SES's bounce and complaint events of its configuration set only.
run "only_alarms_publish_without_mail" {
  command = plan

  assert {
    condition     = [for s in data.aws_iam_policy_document.alarm_topic.statement : s.sid] == ["CloudWatchAlarmsPublish"] && one(one(data.aws_iam_policy_document.alarm_topic.statement).principals).identifiers == toset(["cloudwatch.amazonaws.com"])
    error_message = "without mail only this account's CloudWatch alarms publish to the alarm topic"
  }
}

run "ses_publishes_bounces_and_complaints_of_its_configuration_set" {
  command = plan
  variables {
    ses_configuration_set_arns = ["arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-test"]
  }

  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.alarm_topic.statement : alltrue([
      s.actions == toset(["sns:Publish"]),
      one(s.principals).identifiers == toset(["ses.amazonaws.com"]),
      anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && c.values == tolist(["123456789012"])]),
      anytrue([for c in s.condition : c.test == "ArnEquals" && c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-test"])]),
    ]) if s.sid == "SesBouncesAndComplaints"]) && length([for s in data.aws_iam_policy_document.alarm_topic.statement : s if s.sid == "SesBouncesAndComplaints"]) == 1
    error_message = "SES may publish to the alarm topic only for this account's configuration set"
  }
}
