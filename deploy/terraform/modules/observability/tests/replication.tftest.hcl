# Issue 21, cross-region RPO of objects: the S3 replication rules of the data and backup buckets
# (modules/object-store, Replication Time Control and metrics on) are alarmed in the source
# region, on the metrics' own dimensions; a recovery environment standing by (no task) does not
# sit in ALARM for its silence.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mhp-test-alarms" }
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
}

run "s3_replication_is_alarmed_on_latency_and_failures" {
  command = plan

  variables {
    s3_replication_rules = {
      data    = { source_bucket = "mhp-test-123456789012-data", destination_bucket = "mhp-test-123456789012-data-replica", rule_id = "recovery-region" }
      backups = { source_bucket = "mhp-test-123456789012-backups", destination_bucket = "mhp-test-123456789012-backups-replica", rule_id = "recovery-region" }
    }
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.s3_replication_latency)) == toset(["data", "backups"]) && toset(keys(aws_cloudwatch_metric_alarm.s3_replication_failed)) == toset(["data", "backups"])
    error_message = "each replication rule has a latency and a failure alarm"
  }
  assert {
    condition = alltrue(flatten([for k, r in var.s3_replication_rules : [
      for a in [aws_cloudwatch_metric_alarm.s3_replication_latency[k], aws_cloudwatch_metric_alarm.s3_replication_failed[k]] :
      a.namespace == "AWS/S3" && a.dimensions == tomap({ SourceBucket = r.source_bucket, DestinationBucket = r.destination_bucket, RuleId = r.rule_id })
    ]]))
    error_message = "the alarms watch AWS/S3 by SourceBucket, DestinationBucket and RuleId (the replication metrics' dimensions)"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.s3_replication_latency :
      a.metric_name == "ReplicationLatency" && a.statistic == "Maximum" && a.threshold == 900 && a.comparison_operator == "GreaterThanOrEqualToThreshold"
    ])
    error_message = "ReplicationLatency (seconds) alarms at the cross-region RPO, 15 minutes"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.s3_replication_failed :
      a.metric_name == "OperationsFailedReplication" && a.statistic == "Sum" && a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold"
    ])
    error_message = "any failed replication operation alarms"
  }
  assert {
    condition = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.s3_replication_latency), values(aws_cloudwatch_metric_alarm.s3_replication_failed)) :
      a.treat_missing_data == "notBreaching" && a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:mhp-test-alarms"])
    ])
    error_message = "no replication activity is not an alarm; every alarm notifies the alarm topic"
  }
  assert {
    condition     = output.s3_replication_alarms["data"].latency == "mhp-test-s3-replication-data-latency" && output.s3_replication_alarms["data"].failed == "mhp-test-s3-replication-data-failed" && output.s3_replication_alarms["data"].latency_seconds == 900 && output.s3_replication_alarms["data"].dimensions == tomap({ SourceBucket = "mhp-test-123456789012-data", DestinationBucket = "mhp-test-123456789012-data-replica", RuleId = "recovery-region" })
    error_message = "the output names the alarms, their dimensions and the latency threshold"
  }
}

run "no_replication_alarms_without_replication" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.s3_replication_latency) == 0 && length(aws_cloudwatch_metric_alarm.s3_replication_failed) == 0 && length(output.s3_replication_alarms) == 0
    error_message = "no replication, no replication alarm"
  }
}

run "a_service_standing_by_is_not_an_outage" {
  command = plan

  variables {
    app_standing_by = true
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.not_ready.treat_missing_data == "missing" && aws_cloudwatch_metric_alarm.not_ready.threshold == 1 && aws_cloudwatch_metric_alarm.not_ready.comparison_operator == "LessThanThreshold"
    error_message = "with no task to report (pilot light), silence is missing data; a task reporting not ready still alarms"
  }
}
