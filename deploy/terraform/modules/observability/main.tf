# CloudWatch: KMS-encrypted log groups for every MHP process, the collector configuration that
# turns MHP's Prometheus /metrics into CloudWatch metrics (namespace MHP, dimension Environment),
# alarms on those metrics and on the AWS services under MHP, and the SNS topic they notify.

data "aws_region" "current" {}

locals {
  namespace = "MHP"
  # "security": MHP's security events in OCSF (security.cloudwatch_log_group), one stream per
  # app task, beside the SIEM domain.
  log_groups = toset(["app", "worker", "scheduler", "collector", "security"])

  # AWS Distro for OpenTelemetry, as a sidecar of each app task (AOT_CONFIG_CONTENT): scrapes
  # http://127.0.0.1:8080/metrics and writes embedded-metric-format logs into CloudWatch, and
  # receives MHP's spans over OTLP/HTTP on the task's loopback (telemetry.otlp_endpoint) and
  # sends them to X-Ray, which keeps W3C trace ids.
  collector_config = yamlencode({
    receivers = {
      otlp = {
        protocols = {
          http = { endpoint = "127.0.0.1:4318" }
        }
      }
      prometheus = {
        config = {
          scrape_configs = [{
            job_name        = "mhp"
            scrape_interval = "30s"
            metrics_path    = "/metrics"
            static_configs  = [{ targets = ["127.0.0.1:8080"] }]
          }]
        }
      }
    }
    processors = {
      "resource/environment" = {
        attributes = [{ key = "Environment", value = var.environment, action = "upsert" }]
      }
      batch = {}
    }
    exporters = {
      awsxray = {
        region = data.aws_region.current.name
      }
      awsemf = {
        namespace                        = local.namespace
        log_group_name                   = aws_cloudwatch_log_group.this["collector"].name
        region                           = data.aws_region.current.name
        resource_to_telemetry_conversion = { enabled = true }
        dimension_rollup_option          = "NoDimensionRollup"
        metric_declarations = [
          {
            dimensions            = [["Environment"]]
            metric_name_selectors = ["^mhp_ready$", "^mhp_db_pool_max_connections$"]
          },
          {
            dimensions            = [["Environment", "state"]]
            metric_name_selectors = ["^mhp_db_pool_connections$"]
          },
          {
            dimensions            = [["Environment", "status"]]
            metric_name_selectors = ["^mhp_http_requests_total$"]
          },
        ]
      }
    }
    service = {
      pipelines = {
        metrics = {
          receivers  = ["prometheus"]
          processors = ["resource/environment", "batch"]
          exporters  = ["awsemf"]
        }
        traces = {
          receivers  = ["otlp"]
          processors = ["resource/environment", "batch"]
          exporters  = ["awsxray"]
        }
      }
    }
  })
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name              = "/mhp/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.logs_kms_key_arn
  tags              = var.tags
}

# Who publishes to the alarm topic: CloudWatch alarms of this account, and SES's bounce and
# complaint events of the environment's configuration set (modules/mail) when it sends mail.
# Both need the logs key too (modules/kms, statement AlarmAndFindingTopics).
data "aws_iam_policy_document" "alarm_topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
  dynamic "statement" {
    for_each = length(var.ses_configuration_set_arns) > 0 ? [1] : []
    content {
      sid       = "SesBouncesAndComplaints"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.alarms.arn]
      principals {
        type        = "Service"
        identifiers = ["ses.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [var.account_id]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = var.ses_configuration_set_arns
      }
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarm_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  actions = [aws_sns_topic.alarms.arn]
}

# --- MHP's own metrics (from /metrics through the collector) -----------------------------------

resource "aws_cloudwatch_metric_alarm" "not_ready" {
  alarm_name          = "${var.name}-mhp-not-ready"
  alarm_description   = "An MHP instance reported mhp_ready = 0 (or none reported) for 3 minutes: database, migrations or object store unavailable."
  namespace           = local.namespace
  metric_name         = "mhp_ready"
  dimensions          = { Environment = var.environment }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  # No task reporting is an outage, unless the service stands by (a recovery environment's
  # pilot light runs no task until it is scaled up).
  treat_missing_data = var.app_standing_by ? "missing" : "breaching"
  alarm_actions      = local.actions
  ok_actions         = local.actions
  tags               = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_pool_saturated" {
  alarm_name          = "${var.name}-mhp-db-pool-saturated"
  alarm_description   = "mhp_db_pool_connections{state=in_use} above 90% of mhp_db_pool_max_connections for 5 minutes."
  evaluation_periods  = 5
  threshold           = 90
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "saturation"
    expression  = "100 * in_use / max_conn"
    label       = "pool in use (%)"
    return_data = true
  }
  metric_query {
    id = "in_use"
    metric {
      namespace   = local.namespace
      metric_name = "mhp_db_pool_connections"
      dimensions  = { Environment = var.environment, state = "in_use" }
      stat        = "Maximum"
      period      = 60
    }
  }
  metric_query {
    id = "max_conn"
    metric {
      namespace   = local.namespace
      metric_name = "mhp_db_pool_max_connections"
      dimensions  = { Environment = var.environment }
      stat        = "Maximum"
      period      = 60
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "http_5xx" {
  alarm_name          = "${var.name}-mhp-http-500"
  alarm_description   = "mhp_http_requests_total{status=500} rising: internal errors in MHP."
  namespace           = local.namespace
  metric_name         = "mhp_http_requests_total"
  dimensions          = { Environment = var.environment, status = "500" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.http_500_per_5min
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# --- Load balancer, ECS, Aurora, OpenSearch ----------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "alb_target_5xx" {
  alarm_name          = "${var.name}-alb-target-5xx"
  alarm_description   = "Targets answered 5xx through the load balancer."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.http_500_per_5min
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_latency_p99" {
  alarm_name          = "${var.name}-alb-latency-p99"
  alarm_description   = "p99 target response time above ${var.latency_p99_seconds} s for 10 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.latency_p99_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_unhealthy" {
  alarm_name          = "${var.name}-alb-unhealthy-targets"
  alarm_description   = "A target failed the /readyz health check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "ecs_cpu" {
  alarm_name          = "${var.name}-ecs-app-cpu"
  alarm_description   = "App service CPU above 80% for 15 minutes (scaling is not keeping up)."
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = { ClusterName = var.ecs_cluster_name, ServiceName = var.ecs_service_name }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "aurora_cpu" {
  alarm_name          = "${var.name}-aurora-cpu"
  alarm_description   = "Aurora CPU above 80% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBClusterIdentifier = var.db_cluster_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = 80
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "aurora_memory" {
  alarm_name          = "${var.name}-aurora-freeable-memory"
  alarm_description   = "Aurora freeable memory below 256 MiB."
  namespace           = "AWS/RDS"
  metric_name         = "FreeableMemory"
  dimensions          = { DBClusterIdentifier = var.db_cluster_identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  threshold           = 268435456
  comparison_operator = "LessThanThreshold"
  alarm_actions       = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "opensearch_red" {
  for_each = toset(var.opensearch_domain_names)

  alarm_name          = "${var.name}-opensearch-${each.key}-red"
  alarm_description   = "OpenSearch domain ${each.key}: a primary shard is unassigned."
  namespace           = "AWS/ES"
  metric_name         = "ClusterStatus.red"
  dimensions          = { DomainName = each.key, ClientId = var.account_id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  alarm_actions       = local.actions
  tags                = var.tags
}

# --- S3 replication to the recovery region (issue 21, cross-region RPO) --------------------------
# Replication metrics (on, with Replication Time Control, in modules/object-store) are published
# in the source bucket's region, by SourceBucket, DestinationBucket and RuleId. ReplicationLatency
# (seconds) is how far the destination is behind for the rule: at the RPO, objects written since
# are not yet in the recovery region. OperationsFailedReplication counts objects that will not
# replicate at all (a key or permission problem), which no latency shows. No replication
# activity publishes nothing: missing data is not breaching.

resource "aws_cloudwatch_metric_alarm" "s3_replication_latency" {
  for_each = var.s3_replication_rules

  alarm_name          = "${var.name}-s3-replication-${each.key}-latency"
  alarm_description   = "S3 replication of ${each.value.source_bucket} to ${each.value.destination_bucket} (rule ${each.value.rule_id}) is ${var.replication_latency_seconds} s or more behind: the cross-region RPO of objects is not met."
  namespace           = "AWS/S3"
  metric_name         = "ReplicationLatency"
  dimensions          = { SourceBucket = each.value.source_bucket, DestinationBucket = each.value.destination_bucket, RuleId = each.value.rule_id }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.replication_latency_seconds
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "s3_replication_failed" {
  for_each = var.s3_replication_rules

  alarm_name          = "${var.name}-s3-replication-${each.key}-failed"
  alarm_description   = "S3 replication of ${each.value.source_bucket} to ${each.value.destination_bucket} (rule ${each.value.rule_id}) failed for some objects: they will not reach the recovery region without S3 Batch Replication."
  namespace           = "AWS/S3"
  metric_name         = "OperationsFailedReplication"
  dimensions          = { SourceBucket = each.value.source_bucket, DestinationBucket = each.value.destination_bucket, RuleId = each.value.rule_id }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# --- Service level objectives: the burn-rate alerts of deploy/prometheus/mhp-rules.yml ----------
# Availability 99.9 % (budget 0.1 %) measured at the load balancer: the share of requests the
# targets answered with a 5xx. A page when the budget burns 14.4 times too fast over an hour and
# still over the last five minutes, or 6 times over six hours and the last thirty minutes
# (docs/design/observability.md).

# Thresholds are burn rate x budget (0.1 %), written out: 14.4 x 0.001 and 6 x 0.001.
locals {
  burn_windows = {
    "1h"  = { period = 3600, burn = 14.4, threshold = 0.0144 }
    "5m"  = { period = 300, burn = 14.4, threshold = 0.0144 }
    "6h"  = { period = 21600, burn = 6, threshold = 0.006 }
    "30m" = { period = 1800, burn = 6, threshold = 0.006 }
  }
}

resource "aws_cloudwatch_metric_alarm" "availability_burn" {
  for_each            = local.burn_windows
  alarm_name          = "${var.name}-slo-availability-burn-${each.key}"
  alarm_description   = "5xx share over ${each.key} above ${each.value.burn} x the 0.1 % budget (part of the burn-rate page)."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "IF(requests > 0, errors / requests, 0)"
    label       = "5xx share"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      stat        = "Sum"
      period      = each.value.period
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      stat        = "Sum"
      period      = each.value.period
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "availability_burn_fast" {
  alarm_name        = "${var.name}-slo-availability-burn-fast"
  alarm_description = "The availability error budget burns fast (MHPAvailabilityBudgetBurnFast): 14.4x over 1 h and 5 m, or 6x over 6 h and 30 m."
  alarm_rule = join(" OR ", [
    "(ALARM(\"${aws_cloudwatch_metric_alarm.availability_burn["1h"].alarm_name}\") AND ALARM(\"${aws_cloudwatch_metric_alarm.availability_burn["5m"].alarm_name}\"))",
    "(ALARM(\"${aws_cloudwatch_metric_alarm.availability_burn["6h"].alarm_name}\") AND ALARM(\"${aws_cloudwatch_metric_alarm.availability_burn["30m"].alarm_name}\"))",
  ])
  alarm_actions = local.actions
  ok_actions    = local.actions
  tags          = var.tags
}

# Read latency 99 % within 300 ms (budget 1 %), measured at the load balancer: the share of
# requests the targets took longer than 300 ms to answer, from the percentile-rank statistic
# PR(:0.3) (the percentage of responses within 0.3 s). The load balancer does not tell GET from
# the rest, so writes count here too: the alarm is the stricter of the two; the Prometheus rules
# measure GETs alone. Same windows and burn rates as availability: 14.4 x 0.01 and 6 x 0.01.
locals {
  read_latency_windows = {
    "1h"  = { period = 3600, burn = 14.4, threshold = 0.144 }
    "5m"  = { period = 300, burn = 14.4, threshold = 0.144 }
    "6h"  = { period = 21600, burn = 6, threshold = 0.06 }
    "30m" = { period = 1800, burn = 6, threshold = 0.06 }
  }
}

resource "aws_cloudwatch_metric_alarm" "read_latency_burn" {
  for_each            = local.read_latency_windows
  alarm_name          = "${var.name}-slo-read-latency-burn-${each.key}"
  alarm_description   = "Share of responses slower than 300 ms over ${each.key} above ${each.value.burn} x the 1 % budget (part of the burn-rate page)."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  tags                = var.tags

  metric_query {
    id          = "slow"
    expression  = "(100 - within) / 100"
    label       = "share slower than 300 ms"
    return_data = true
  }
  metric_query {
    id = "within"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "TargetResponseTime"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      stat        = "PR(:0.3)"
      period      = each.value.period
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "read_latency_burn_fast" {
  alarm_name        = "${var.name}-slo-read-latency-burn-fast"
  alarm_description = "The read-latency error budget burns fast (MHPReadLatencyBudgetBurnFast): 14.4x over 1 h and 5 m, or 6x over 6 h and 30 m."
  alarm_rule = join(" OR ", [
    "(ALARM(\"${aws_cloudwatch_metric_alarm.read_latency_burn["1h"].alarm_name}\") AND ALARM(\"${aws_cloudwatch_metric_alarm.read_latency_burn["5m"].alarm_name}\"))",
    "(ALARM(\"${aws_cloudwatch_metric_alarm.read_latency_burn["6h"].alarm_name}\") AND ALARM(\"${aws_cloudwatch_metric_alarm.read_latency_burn["30m"].alarm_name}\"))",
  ])
  alarm_actions = local.actions
  ok_actions    = local.actions
  tags          = var.tags
}
