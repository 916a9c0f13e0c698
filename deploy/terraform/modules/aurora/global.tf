# Issue 21, cross-region RPO and RTO of the database (production): an Aurora global database.
# The cluster of main.tf becomes the primary of a global cluster (storage-level replication,
# typically under a second of lag); with `secondary` given, a secondary cluster in the recovery
# region (aws.replica) that a managed failover or a detach-and-promote makes the writer
# (docs/runbooks/restore-to-new-region.md). The key store (`mhp_keys`) lives on the same
# cluster, so it is replicated with the system of record.
#
# The secondary is headless by default (secondary.instance_count = 0): Aurora keeps a headless
# secondary's storage volume in sync with the primary (the RPO does not depend on instances),
# and an instance added at recovery time (a few minutes to tens of minutes) fits the 4 h
# cross-region RTO, which the recovery environment's apply dominates. It saves a reader of the
# writer's class in every production environment. Give instance_count = 1 for a reader that is
# ready at once (and for reads there).

resource "aws_rds_global_cluster" "this" {
  count = var.global_cluster ? 1 : 0

  global_cluster_identifier    = "${var.name}-global"
  source_db_cluster_identifier = aws_rds_cluster.this.arn
  deletion_protection          = var.deletion_protection
  force_destroy                = true
}

resource "aws_db_subnet_group" "secondary" {
  count    = var.secondary == null ? 0 : 1
  provider = aws.replica

  name       = var.name
  subnet_ids = var.secondary.subnet_ids
  tags       = var.tags
}

# No ingress until the recovery region runs MHP's tasks: the recovery environment adds its
# clients' rules (modules/platform with recovery_of, as client_security_group_ids does here).
resource "aws_security_group" "secondary" {
  count    = var.secondary == null ? 0 : 1
  provider = aws.replica

  name        = "${var.name}-aurora"
  description = "PostgreSQL secondary of the global database: no clients until failover"
  vpc_id      = var.secondary.vpc_id
  tags        = var.tags
}

resource "aws_rds_cluster_parameter_group" "secondary" {
  count    = var.secondary == null ? 0 : 1
  provider = aws.replica

  name        = "${var.name}-aurora-pg16"
  family      = "aurora-postgresql16"
  description = "MHP: TLS only, connection and DDL logging"
  tags        = var.tags

  dynamic "parameter" {
    for_each = { for p in aws_rds_cluster_parameter_group.this.parameter : p.name => p.value }
    content {
      name  = parameter.key
      value = parameter.value
    }
  }
}

resource "aws_rds_cluster" "secondary" {
  count    = var.secondary == null ? 0 : 1
  provider = aws.replica

  #checkov:skip=CKV2_AWS_8:A global database secondary has no backups of its own to select; AWS Backup copies the primary's recovery points to this region (modules/backup copy vault).
  cluster_identifier                  = "${var.name}-secondary"
  engine                              = aws_rds_cluster.this.engine
  engine_version                      = aws_rds_cluster.this.engine_version
  global_cluster_identifier           = aws_rds_global_cluster.this[0].id
  port                                = local.port
  db_subnet_group_name                = aws_db_subnet_group.secondary[0].name
  vpc_security_group_ids              = [aws_security_group.secondary[0].id]
  db_cluster_parameter_group_name     = aws_rds_cluster_parameter_group.secondary[0].name
  storage_encrypted                   = true
  kms_key_id                          = var.secondary.kms_key_arn
  iam_database_authentication_enabled = true
  backup_retention_period             = var.backup_retention_days
  preferred_backup_window             = "03:00-04:00"
  preferred_maintenance_window        = "sun:05:00-sun:06:00"
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = true # a secondary cannot take one; the primary's final snapshot and the copies stay
  enabled_cloudwatch_logs_exports     = ["postgresql"]
  apply_immediately                   = false
  tags                                = var.tags

  lifecycle {
    ignore_changes = [replication_source_identifier, global_cluster_identifier]
  }

  depends_on = [aws_rds_cluster_instance.this]
}

resource "aws_rds_cluster_instance" "secondary" {
  count    = var.secondary == null ? 0 : var.secondary.instance_count
  provider = aws.replica

  identifier                            = "${var.name}-secondary-${count.index}"
  cluster_identifier                    = aws_rds_cluster.secondary[0].id
  engine                                = aws_rds_cluster.this.engine
  engine_version                        = aws_rds_cluster.this.engine_version
  instance_class                        = var.instance_class
  db_subnet_group_name                  = aws_db_subnet_group.secondary[0].name
  publicly_accessible                   = false
  auto_minor_version_upgrade            = true
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.secondary.kms_key_arn
  performance_insights_retention_period = 7
  ca_cert_identifier                    = "rds-ca-rsa2048-g1"
  copy_tags_to_snapshot                 = true
  tags                                  = var.tags
}

# The secondary's lag, alarmed in the recovery region (issue 21, cross-region RPO): Aurora
# publishes the global database's lag metrics only in secondary Regions, under the secondary
# cluster's identifier (AWS/RDS, dimension DBClusterIdentifier), so they live where a recovery
# happens and outlast the primary Region. Both are in milliseconds; the threshold is the RPO.
#
# - AuroraGlobalDBRPOLag: how far the secondary is behind the primary for user transactions
#   (what a failover would lose; the metric AWS names for Aurora PostgreSQL before a switchover
#   or failover). It is a property of the storage volume, reported with or without instances
#   (headless). Missing data is breaching: with the global database intact the secondary
#   reports it, so silence means the lag is no longer measured (the secondary was detached or
#   promoted, replication broke, or the primary Region is gone) and the RPO is unknown.
# - AuroraGlobalDBReplicationLag: the transport lag between the two Regions' replication
#   servers; missing data not breaching (the RPO alarm already says that nothing is measured).
#
# 5-minute periods, 2 of 3: a lag past the RPO alarms within about ten minutes of crossing it,
# and a late datapoint does not.
locals {
  secondary_lag_alarms = var.secondary == null ? {} : {
    rpo = {
      metric      = "AuroraGlobalDBRPOLag"
      missing     = "breaching"
      description = "the secondary is behind the primary for user transactions (what a failover would lose), or the lag is not reported (detached, promoted, replication broken, primary Region lost)"
    }
    replication = {
      metric      = "AuroraGlobalDBReplicationLag"
      missing     = "notBreaching"
      description = "replicating updates from the primary Region lags"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "secondary_lag" {
  for_each = local.secondary_lag_alarms
  provider = aws.replica

  alarm_name          = "${var.name}-secondary-${each.key}-lag"
  alarm_description   = "Aurora global database ${aws_rds_global_cluster.this[0].global_cluster_identifier}, secondary ${aws_rds_cluster.secondary[0].cluster_identifier}: ${each.value.metric} at or above the cross-region RPO (${var.secondary.rpo_seconds} s): ${each.value.description}. Runbook: docs/runbooks/restore-to-new-region.md."
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  dimensions          = { DBClusterIdentifier = aws_rds_cluster.secondary[0].cluster_identifier }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.secondary.rpo_seconds * 1000 # milliseconds
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = each.value.missing
  alarm_actions       = var.secondary.alarm_topic_arns
  ok_actions          = var.secondary.alarm_topic_arns
  tags                = var.tags
}
