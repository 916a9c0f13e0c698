# Issue 21: production's database is an Aurora global database, with a secondary cluster in the
# recovery region when its network is given.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_rds_cluster" {
    defaults = { arn = "arn:aws:rds:us-east-1:123456789012:cluster:mhp-test", engine = "aurora-postgresql", engine_version = "16.6" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mhp-test-rds-monitoring" }
  }
  mock_resource "aws_rds_global_cluster" {
    defaults = { id = "mhp-test-global" }
  }
}

mock_provider "aws" {
  alias           = "replica"
  override_during = plan
}

variables {
  name                      = "mhp-test"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-a", "subnet-b", "subnet-c"]
  client_security_group_ids = { app = "sg-app", worker = "sg-worker" }
  kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/mrk-data"
  secrets_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  global_cluster            = true
}

run "production_cluster_is_the_primary_of_a_global_database" {
  command = plan

  assert {
    condition     = length(aws_rds_global_cluster.this) == 1 && aws_rds_global_cluster.this[0].source_db_cluster_identifier == aws_rds_cluster.this.arn
    error_message = "the cluster is the primary of a global database"
  }
  assert {
    condition     = aws_rds_global_cluster.this[0].deletion_protection
    error_message = "the global database is deletion-protected as the cluster is"
  }
  assert {
    condition     = length(aws_rds_cluster.secondary) == 0
    error_message = "no secondary without its network"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.secondary_lag) == 0 && length(output.secondary_lag_alarms) == 0
    error_message = "no lag alarm without a secondary"
  }
}

run "secondary_in_the_recovery_region" {
  command = plan

  variables {
    secondary = {
      vpc_id      = "vpc-recovery"
      subnet_ids  = ["subnet-r1", "subnet-r2"]
      kms_key_arn = "arn:aws:kms:us-west-1:123456789012:key/mrk-data"
    }
  }

  assert {
    condition     = aws_rds_cluster.secondary[0].global_cluster_identifier == aws_rds_global_cluster.this[0].id
    error_message = "the secondary joins the global database"
  }
  assert {
    condition     = aws_rds_cluster.secondary[0].storage_encrypted && aws_rds_cluster.secondary[0].kms_key_id == var.secondary.kms_key_arn
    error_message = "the secondary is encrypted with the replica of the data key"
  }
  assert {
    condition     = length(aws_rds_cluster_instance.secondary) == 0
    error_message = "the secondary is headless by default: storage replicated, no instance until recovery (global.tf)"
  }
  assert {
    condition     = aws_rds_cluster.secondary[0].db_subnet_group_name == aws_db_subnet_group.secondary[0].name && toset(aws_db_subnet_group.secondary[0].subnet_ids) == toset(["subnet-r1", "subnet-r2"])
    error_message = "the secondary is in the recovery region's isolated subnets"
  }
  assert {
    condition     = aws_rds_cluster.secondary[0].deletion_protection && aws_rds_cluster.secondary[0].iam_database_authentication_enabled
    error_message = "the secondary is deletion-protected and takes IAM authentication as the primary does"
  }
  assert {
    condition     = length([for p in aws_rds_cluster_parameter_group.secondary[0].parameter : p if p.name == "rds.force_ssl" && p.value == "1"]) == 1
    error_message = "TLS is forced in the recovery region too"
  }
}

# The cross-region RPO is watched where a recovery happens: the secondary's lag metrics exist only
# in the recovery region, under the secondary's identifier.
run "the_secondarys_lag_is_alarmed_in_the_recovery_region" {
  command = plan

  variables {
    secondary = {
      vpc_id           = "vpc-recovery"
      subnet_ids       = ["subnet-r1", "subnet-r2"]
      kms_key_arn      = "arn:aws:kms:us-west-1:123456789012:key/mrk-data"
      alarm_topic_arns = ["arn:aws:sns:us-west-1:123456789012:mhp-test-recovery-alarms"]
    }
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.secondary_lag)) == toset(["rpo", "replication"])
    error_message = "both lag metrics of the secondary are alarmed"
  }
  assert {
    condition = alltrue([for k, m in { rpo = "AuroraGlobalDBRPOLag", replication = "AuroraGlobalDBReplicationLag" } :
      aws_cloudwatch_metric_alarm.secondary_lag[k].namespace == "AWS/RDS" && aws_cloudwatch_metric_alarm.secondary_lag[k].metric_name == m
      && aws_cloudwatch_metric_alarm.secondary_lag[k].dimensions == tomap({ DBClusterIdentifier = "mhp-test-secondary" })
    ])
    error_message = "AWS/RDS AuroraGlobalDBRPOLag and AuroraGlobalDBReplicationLag of the secondary cluster (DBClusterIdentifier)"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.secondary_lag :
      a.threshold == 900000 && a.comparison_operator == "GreaterThanOrEqualToThreshold" && a.statistic == "Maximum"
    ])
    error_message = "the threshold is the cross-region RPO of deploy/README.md, 15 minutes (the metrics are in milliseconds)"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.secondary_lag["rpo"].treat_missing_data == "breaching" && aws_cloudwatch_metric_alarm.secondary_lag["replication"].treat_missing_data == "notBreaching"
    error_message = "an RPO lag no longer reported (detached, broken, primary Region gone) alarms; the transport lag does not alarm twice for it"
  }
  assert {
    condition = alltrue([for a in aws_cloudwatch_metric_alarm.secondary_lag :
      a.alarm_actions == toset(var.secondary.alarm_topic_arns) && a.ok_actions == toset(var.secondary.alarm_topic_arns)
    ])
    error_message = "the lag alarms notify the recovery region's alarm topic"
  }
  assert {
    condition     = output.secondary_lag_alarms["rpo"].name == "mhp-test-secondary-rpo-lag"
    error_message = "the output names the RPO alarm"
  }
}

run "a_secondary_with_a_reader" {
  command = plan

  variables {
    secondary = {
      vpc_id         = "vpc-recovery"
      subnet_ids     = ["subnet-r1", "subnet-r2"]
      kms_key_arn    = "arn:aws:kms:us-west-1:123456789012:key/mrk-data"
      instance_count = 1
    }
  }

  assert {
    condition     = length(aws_rds_cluster_instance.secondary) == 1 && !aws_rds_cluster_instance.secondary[0].publicly_accessible && aws_rds_cluster_instance.secondary[0].performance_insights_kms_key_id == var.secondary.kms_key_arn
    error_message = "instance_count = 1: one private reader, its Performance Insights under the replica key"
  }
}

run "non_production_stays_regional" {
  command = plan

  variables {
    global_cluster = false
  }

  assert {
    condition     = length(aws_rds_global_cluster.this) == 0
    error_message = "no global database unless asked"
  }
}

run "secondary_without_global_cluster_is_refused" {
  command = plan

  variables {
    global_cluster = false
    secondary = {
      vpc_id      = "vpc-recovery"
      subnet_ids  = ["subnet-r1", "subnet-r2"]
      kms_key_arn = "arn:aws:kms:us-west-1:123456789012:key/mrk-data"
    }
  }

  expect_failures = [var.secondary]
}
