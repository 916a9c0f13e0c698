# Issue 21: production has what recovery in its recovery region (the copy region) needs; the
# other flavours keep AWS Backup's copies only; a recovery environment runs on what production
# left there (recovery.tf).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/mocks-copy"
}

# prod-use1 in production, as most runs plan it; a run overrides what it needs (staging, the
# recovery environment dr-use1).
variables {
  environment = "prod-use1"
  flavour     = "production"
}

run "production_recovers_in_its_recovery_region" {
  command = plan
  variables {
    hosted_zone_id = "Z0123456789"
  }

  assert {
    condition     = toset(output.recovery.replicated_keys) == toset(["app", "data"])
    error_message = "the app and data keys have replicas in the recovery region"
  }
  assert {
    condition     = toset(keys(output.recovery.replica_buckets)) == toset(["data", "backups", "key-backups"])
    error_message = "objects and MHP's backups (and the key store's) are replicated"
  }
  assert {
    condition     = toset(keys(module.object_store.buckets)) == toset(["logs", "audit-exports", "data", "backups", "key-backups"])
    error_message = "an environment of its own makes its data, backups and key-backups buckets (the replicated ones)"
  }
  assert {
    condition     = output.recovery.global_cluster == "mhp-prod-use1-global"
    error_message = "production's Aurora cluster is the primary of a global database"
  }
  assert {
    condition     = output.recovery.restore_testing_plan != null
    error_message = "AWS Backup tests restores"
  }
  assert {
    condition     = length(module.failover) == 1
    error_message = "with a hosted zone, the public host fails over on /readyz"
  }
  assert {
    condition     = output.recovery.region == "us-west-1" && output.recovery.parameter_prefix == "/mhp/prod-use1/"
    error_message = "the recovery region is the copy region, its parameters under the environment's prefix"
  }
  assert {
    condition     = !module.app.service_scaling.standing_by && module.app.service_scaling.desired_count == 3 && module.pipelines.worker_count == 1 && module.observability.not_ready_missing_data == "breaching"
    error_message = "an environment of its own serves: standby_app_count concerns recovery environments only"
  }
}

# The database's cross-region RPO: a secondary of the global database in a network of the
# recovery region, encrypted with the replica of the data key.
run "production_keeps_a_secondary_in_a_network_of_its_recovery_region" {
  command = plan

  # Known ARNs for the replica keys, so that the plan can tell where each one goes.
  override_resource {
    target          = module.kms.aws_kms_replica_key.this["app"]
    values          = { arn = "arn:aws:kms:us-west-1:123456789012:key/mrk-app" }
    override_during = plan
  }
  override_resource {
    target          = module.kms.aws_kms_replica_key.this["data"]
    values          = { arn = "arn:aws:kms:us-west-1:123456789012:key/mrk-data" }
    override_during = plan
  }

  assert {
    condition     = length(module.recovery_network) == 1 && output.recovery.network.vpc_cidr == "10.140.0.0/16"
    error_message = "production builds a network in its recovery region, in recovery_vpc_cidr"
  }
  assert {
    condition     = output.recovery.network.azs == tolist(["us-west-1a", "us-west-1c"]) && length(output.recovery.network.data_subnet_ids) == 2
    error_message = "the recovery network spans the recovery region's zones (us-west-1: two) with isolated data subnets"
  }
  assert {
    condition     = output.recovery.secondary.cluster_identifier == "mhp-prod-use1-secondary" && output.recovery.secondary.instance_count == 0
    error_message = "the global database has a headless secondary in the recovery region (modules/aurora global.tf)"
  }
  assert {
    condition     = output.recovery.secondary.kms_key_arn == module.kms.replica_key_arns["data"]
    error_message = "the secondary is encrypted with the replica of the data key"
  }
  assert {
    condition     = toset(output.recovery.replicated_secrets) == toset(["database-url", "key-store-url"])
    error_message = "the database's and the key store's URLs are readable in the recovery region"
  }
  assert {
    condition     = length(module.recovery_kms) == 1 && toset(keys(module.recovery_kms[0].key_arns)) == toset(["logs", "secrets"])
    error_message = "the recovery region has its own logs key (flow logs) and secrets key (replicated secrets, parameters)"
  }
}

# The cross-region RPO is alarmed where each replication publishes its metrics: the secondary's
# lag in the recovery region, to an alarm topic of that region (encrypted with its logs key, only
# this environment's alarms may publish); the buckets' replication in the environment's region,
# to the alarm topic.
run "production_alarms_on_replication_lag_at_the_rpo" {
  command = plan
  variables {
    alarm_emails = ["ops@example.org"]
  }

  # Known ARNs for the keys and the alarm topic, so that the plan can tell which is used where.
  override_resource {
    target          = module.recovery_kms[0].aws_kms_key.this["logs"]
    values          = { arn = "arn:aws:kms:us-west-1:123456789012:key/recovery-logs" }
    override_during = plan
  }
  override_resource {
    target          = module.observability.aws_sns_topic.alarms
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:mhp-prod-use1-alarms" }
    override_during = plan
  }
  override_resource {
    target          = module.kms.aws_kms_key.this["logs"]
    values          = { arn = "arn:aws:kms:us-east-1:123456789012:key/logs" }
    override_during = plan
  }

  assert {
    condition     = length(aws_sns_topic.recovery_alarms) == 1 && startswith(aws_sns_topic.recovery_alarms[0].arn, "arn:aws:sns:us-west-1:") && aws_sns_topic.recovery_alarms[0].name == "mhp-prod-use1-recovery-alarms"
    error_message = "production has an alarm topic in its recovery region"
  }
  assert {
    condition     = aws_sns_topic.recovery_alarms[0].kms_master_key_id == "arn:aws:kms:us-west-1:123456789012:key/recovery-logs"
    error_message = "the recovery region's alarm topic is encrypted with that region's logs key (as the alarm topic is with the logs key)"
  }
  assert {
    condition = (
      aws_sns_topic_policy.recovery_alarms[0].arn == aws_sns_topic.recovery_alarms[0].arn
      && length(data.aws_iam_policy_document.recovery_alarm_topic[0].statement) == 1
      && one(data.aws_iam_policy_document.recovery_alarm_topic[0].statement).actions == toset(["sns:Publish"])
      && one(one(data.aws_iam_policy_document.recovery_alarm_topic[0].statement).principals).identifiers == toset(["cloudwatch.amazonaws.com"])
      && toset([for c in one(data.aws_iam_policy_document.recovery_alarm_topic[0].statement).condition : "${c.test} ${c.variable} ${join(",", c.values)}"]) == toset([
        "StringEquals aws:SourceAccount 123456789012",
        "ArnLike aws:SourceArn arn:aws:cloudwatch:us-west-1:123456789012:alarm:mhp-prod-use1-*",
      ])
    )
    error_message = "the topic policy lets only this account's CloudWatch alarms of this environment in the recovery region publish"
  }
  assert {
    condition     = [for s in aws_sns_topic_subscription.recovery_alarm_email : s.endpoint] == ["ops@example.org"] && alltrue([for s in aws_sns_topic_subscription.recovery_alarm_email : s.topic_arn == aws_sns_topic.recovery_alarms[0].arn && s.protocol == "email"])
    error_message = "the operators are subscribed to the recovery region's alarm topic"
  }
  assert {
    condition = alltrue([for k, a in module.aurora[0].secondary_lag_alarms :
      a.alarm_actions == toset([aws_sns_topic.recovery_alarms[0].arn]) && a.threshold_ms == 900000
    ]) && toset(keys(module.aurora[0].secondary_lag_alarms)) == toset(["rpo", "replication"])
    error_message = "the secondary's lag (AuroraGlobalDBRPOLag, AuroraGlobalDBReplicationLag) alarms at 15 minutes to the recovery region's topic"
  }
  assert {
    condition     = alltrue([for a in module.aurora[0].secondary_lag_alarms : startswith(a.arn, "arn:aws:cloudwatch:us-west-1:") && a.dimensions["DBClusterIdentifier"] == "mhp-prod-use1-secondary"])
    error_message = "the lag alarms are in the recovery region, on the secondary cluster (where Aurora publishes a global database's lag)"
  }
  assert {
    condition     = toset(keys(module.observability.s3_replication_alarms)) == toset(["data", "backups", "key-backups"])
    error_message = "the replication of the data, backups and key-backups buckets is alarmed"
  }
  assert {
    condition = alltrue([for k, r in module.object_store.replication_rules :
      module.observability.s3_replication_alarms[k].dimensions == tomap({ SourceBucket = r.source_bucket, DestinationBucket = r.destination_bucket, RuleId = r.rule_id })
      && module.observability.s3_replication_alarms[k].failed_dimensions == module.observability.s3_replication_alarms[k].dimensions
      && module.observability.s3_replication_alarms[k].alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:mhp-prod-use1-alarms"])
    ])
    error_message = "each bucket's replication alarms watch its rule (SourceBucket, DestinationBucket, RuleId), in the environment's region, to the alarm topic"
  }
  assert {
    condition     = alltrue([for a in module.observability.s3_replication_alarms : a.latency_seconds == 900]) && output.recovery.replication_rpo_seconds == 900
    error_message = "objects alarm at the same 15-minute RPO (Replication Time Control's bound)"
  }
  assert {
    condition     = output.recovery.alarm_topic == aws_sns_topic.recovery_alarms[0].arn && output.recovery.secondary_lag_alarms["rpo"].name == "mhp-prod-use1-secondary-rpo-lag" && output.recovery.s3_replication_alarms["data"].latency == "mhp-prod-use1-s3-replication-data-latency"
    error_message = "the output names the recovery region's topic and the replication alarms"
  }
}

# What a recovery environment reads: the settings by the names this region's parameters have, the
# network and the database.
run "production_writes_the_recovery_settings_in_its_recovery_region" {
  command = plan

  # Known ARNs for the replica keys, so that the plan can tell where each one goes.
  override_resource {
    target          = module.kms.aws_kms_replica_key.this["app"]
    values          = { arn = "arn:aws:kms:us-west-1:123456789012:key/mrk-app" }
    override_during = plan
  }
  override_resource {
    target          = module.kms.aws_kms_replica_key.this["data"]
    values          = { arn = "arn:aws:kms:us-west-1:123456789012:key/mrk-data" }
    override_during = plan
  }

  assert {
    condition = toset(keys(output.recovery.settings)) == toset([
      "object_store.bucket", "object_store.kms_key_id", "keys.kms_key_id", "backup.to", "backup.keys_to",
      "recovery.vpc_id", "recovery.vpc_cidr", "recovery.azs", "recovery.public_subnet_ids",
      "recovery.private_subnet_ids", "recovery.data_subnet_ids", "recovery.flow_log_group",
      "recovery.database_cluster", "recovery.database_endpoint", "recovery.database_security_group_id",
    ])
    error_message = "the recovery region has every parameter a recovery environment reads (recovery.tf local.recovered_names)"
  }
  assert {
    condition     = alltrue([for n in ["object_store.bucket", "object_store.kms_key_id", "keys.kms_key_id", "backup.to", "backup.keys_to"] : contains(keys(module.secrets.parameter_arns), n)])
    error_message = "the settings have the names of the environment's own parameters"
  }
  assert {
    condition     = output.recovery.settings["object_store.bucket"] == module.object_store.replica_buckets["data"] && output.recovery.settings["backup.to"] == "s3://${module.object_store.replica_buckets["backups"]}/mhp" && output.recovery.settings["backup.keys_to"] == "s3://${module.object_store.replica_buckets["key-backups"]}/mhp"
    error_message = "the recovery region's buckets are the replicas"
  }
  assert {
    condition     = output.recovery.settings["keys.kms_key_id"] == module.kms.replica_key_arns["app"] && output.recovery.settings["object_store.kms_key_id"] == module.kms.replica_key_arns["data"]
    error_message = "the recovery region's keys are the replicas of the app and data keys"
  }
  assert {
    condition     = toset(keys(output.recovery.parameter_arns)) == toset(keys(output.recovery.settings))
    error_message = "each setting is an SSM parameter in the recovery region"
  }
}

run "production_without_a_recovery_network_is_refused" {
  command = plan
  variables {
    recovery_vpc_cidr = null
  }
  expect_failures = [var.recovery_vpc_cidr]
}

run "non_production_keeps_backup_copies_only" {
  command = plan
  variables {
    environment = "staging"
    flavour     = "non-production"
  }

  assert {
    condition     = length(output.recovery.replicated_keys) == 0 && length(output.recovery.replica_buckets) == 0 && output.recovery.global_cluster == null
    error_message = "no replicas, replication or global database outside production"
  }
  assert {
    condition     = length(module.recovery_network) == 0 && output.recovery.secondary == null && output.recovery.settings == null && length(output.recovery.replicated_secrets) == 0
    error_message = "no network, secondary, replicated secrets or recovery parameters outside production"
  }
  assert {
    condition     = length(aws_sns_topic.recovery_alarms) == 0 && length(output.recovery.secondary_lag_alarms) == 0 && length(output.recovery.s3_replication_alarms) == 0 && output.recovery.alarm_topic == null
    error_message = "no replication, no replication alarm (and no topic in the copy region)"
  }
  assert {
    condition     = length(module.aurora) == 1 && output.recovery.own_database && output.recovery.standby == null
    error_message = "an environment of its own has its own database and serves (standby_app_count is for recovery environments)"
  }
  assert {
    condition     = toset(keys(module.object_store.buckets)) == toset(["logs", "audit-exports", "data", "backups", "key-backups"]) && local.app_data.bucket == module.object_store.data_bucket
    error_message = "an environment of its own makes its data, backups and key-backups buckets, and its tasks use them"
  }
  assert {
    condition     = output.recovery.restore_testing_plan != null
    error_message = "restores are tested in every flavour"
  }
  assert {
    condition     = length(module.failover) == 0
    error_message = "no failover records without a hosted zone"
  }
}

# The recovery environment of prod-use1 in us-west-1 (runbook B): the parameters prod-use1 wrote
# there, as the template root reads them.
run "a_recovery_environment_runs_on_what_production_left_in_its_recovery_region" {
  command = plan
  variables {
    environment = "dr-use1"
    recovery_of = "prod-use1"
  }

  override_data {
    target = data.aws_ssm_parameter.recovered["object_store.bucket"]
    values = { value = "mhp-prod-use1-123456789012-data-replica" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["object_store.kms_key_id"]
    values = { value = "arn:aws:kms:us-west-1:123456789012:key/mrk-data" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["keys.kms_key_id"]
    values = { value = "arn:aws:kms:us-west-1:123456789012:key/mrk-app" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["backup.to"]
    values = { value = "s3://mhp-prod-use1-123456789012-backups-replica/mhp" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["backup.keys_to"]
    values = { value = "s3://mhp-prod-use1-123456789012-key-backups-replica/mhp" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.vpc_id"]
    values = { value = "vpc-recovery" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.vpc_cidr"]
    values = { value = "10.130.0.0/16" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.azs"]
    values = { value = "us-west-1a,us-west-1c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.public_subnet_ids"]
    values = { value = "subnet-pub-a,subnet-pub-c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.private_subnet_ids"]
    values = { value = "subnet-priv-a,subnet-priv-c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.data_subnet_ids"]
    values = { value = "subnet-data-a,subnet-data-c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.flow_log_group"]
    values = { value = "/mhp/mhp-prod-use1-recovery/vpc-flow-logs" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.database_cluster"]
    values = { value = "mhp-prod-use1-secondary" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.database_endpoint"]
    values = { value = "mhp-prod-use1-secondary.cluster-abcdefghijkl.us-west-1.rds.amazonaws.com" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.database_security_group_id"]
    values = { value = "sg-secondary" }
  }

  # It runs in the recovery network, on the replicas, with the replica keys.
  assert {
    condition     = length(module.network) == 0 && local.network.vpc_id == "vpc-recovery" && local.network.data_subnet_ids == tolist(["subnet-data-a", "subnet-data-c"])
    error_message = "a recovery environment makes no network: it runs in its source's recovery network"
  }
  assert {
    condition = alltrue([for t in ["app", "worker"] :
      output.task_environments[t]["MHP_OBJECT_STORE_BUCKET"] == "mhp-prod-use1-123456789012-data-replica"
      && output.task_environments[t]["MHP_OBJECT_STORE_KMS_KEY_ID"] == "arn:aws:kms:us-west-1:123456789012:key/mrk-data"
      && output.task_environments[t]["MHP_KEYS_KMS_KEY_ID"] == "arn:aws:kms:us-west-1:123456789012:key/mrk-app"
    ])
    error_message = "the tasks read and write the data replica and unwrap with the replica of the app key"
  }
  assert {
    condition = alltrue([for t in ["app", "worker"] :
      !contains(keys(output.task_environments[t]), "MHP_KEYS_KMS_KEY_VERSION") && !contains(keys(output.task_environments[t]), "MHP_KEYS_KMS_PREVIOUS_KEY_IDS")
    ])
    error_message = "a source that wrote no keys.kms_key_version wraps as MHP's default version (1): the tasks are given none, and no earlier key"
  }
  assert {
    condition     = output.shared_settings["MHP_BACKUP_TO"] == "s3://mhp-prod-use1-123456789012-backups-replica/mhp" && output.shared_settings["MHP_BACKUP_KEYS_TO"] == "s3://mhp-prod-use1-123456789012-key-backups-replica/mhp"
    error_message = "MHP's backups (and the key store's) are the replicated ones"
  }
  assert {
    condition     = output.task_environments["app"]["MHP_HTTP_TRUSTED_PROXIES"] == "10.130.0.0/16"
    error_message = "the load balancer is trusted in the recovery network"
  }
  assert {
    condition     = tolist(local.app_data.backup_bucket_arns) == tolist(["arn:aws:s3:::mhp-prod-use1-123456789012-backups-replica", "arn:aws:s3:::mhp-prod-use1-123456789012-key-backups-replica"])
    error_message = "the task roles may use the replica backup buckets"
  }
  # It may reach the secondary, and watches it.
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.recovered_database)) == toset(["app", "worker"]) && alltrue([for r in aws_vpc_security_group_ingress_rule.recovered_database : r.security_group_id == "sg-secondary" && r.from_port == 5432 && r.to_port == 5432])
    error_message = "the secondary admits the recovery environment's app and workers on 5432"
  }
  assert {
    condition     = output.recovery.database.cluster == "mhp-prod-use1-secondary" && output.recovery.recovering == "prod-use1"
    error_message = "the recovery environment's database is the secondary it recovers"
  }
  assert {
    condition     = output.database_endpoint == "mhp-prod-use1-secondary.cluster-abcdefghijkl.us-west-1.rds.amazonaws.com" && output.data_bucket == "mhp-prod-use1-123456789012-data-replica" && output.app_kms_key_arn == "arn:aws:kms:us-west-1:123456789012:key/mrk-app"
    error_message = "the environment's outputs name what its tasks use: the secondary's endpoint, the data replica, the replica app key"
  }
  # It keeps nothing in its own recovery region (maybe the lost one) but the backup copies.
  assert {
    condition     = length(output.recovery.replicated_keys) == 0 && length(output.recovery.replica_buckets) == 0 && output.recovery.global_cluster == null && length(module.recovery_network) == 0 && length(module.recovery_parameters) == 0
    error_message = "a recovery environment makes nothing cross-region but the backup copy vault"
  }
}

# The recovery environment of a source whose app key moved to the multi-Region key beside its
# single-Region one (app_key_moved_to_multi_region, tests/app_key_move.tftest.hcl): the source
# wrote keys.kms_key_version (2) beside keys.kms_key_id (the replica), and the tasks wrap and
# unwrap as that version with the replica, naming no earlier key (it has no replica there).
run "a_recovery_environment_wraps_as_the_version_its_source_moved_to" {
  command = plan
  variables {
    environment = "dr-use1"
    recovery_of = "prod-use1"
  }

  override_data {
    target = data.aws_ssm_parameter.recovered["object_store.bucket"]
    values = { value = "mhp-prod-use1-123456789012-data-replica" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["object_store.kms_key_id"]
    values = { value = "arn:aws:kms:us-west-1:123456789012:key/mrk-data" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["keys.kms_key_id"]
    values = { value = "arn:aws:kms:us-west-1:123456789012:key/mrk-app" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["backup.to"]
    values = { value = "s3://mhp-prod-use1-123456789012-backups-replica/mhp" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["backup.keys_to"]
    values = { value = "s3://mhp-prod-use1-123456789012-key-backups-replica/mhp" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.vpc_id"]
    values = { value = "vpc-recovery" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.vpc_cidr"]
    values = { value = "10.130.0.0/16" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.azs"]
    values = { value = "us-west-1a,us-west-1c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.public_subnet_ids"]
    values = { value = "subnet-pub-a,subnet-pub-c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.private_subnet_ids"]
    values = { value = "subnet-priv-a,subnet-priv-c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.data_subnet_ids"]
    values = { value = "subnet-data-a,subnet-data-c" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.flow_log_group"]
    values = { value = "/mhp/mhp-prod-use1-recovery/vpc-flow-logs" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.database_cluster"]
    values = { value = "mhp-prod-use1-secondary" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.database_endpoint"]
    values = { value = "mhp-prod-use1-secondary.cluster-abcdefghijkl.us-west-1.rds.amazonaws.com" }
  }
  override_data {
    target = data.aws_ssm_parameter.recovered["recovery.database_security_group_id"]
    values = { value = "sg-secondary" }
  }
  override_data {
    target = data.aws_ssm_parameters_by_path.recovered[0]
    values = {
      names  = ["/mhp/prod-use1/backup.to", "/mhp/prod-use1/keys.kms_key_id", "/mhp/prod-use1/keys.kms_key_version"]
      values = ["s3://mhp-prod-use1-123456789012-backups-replica/mhp", "arn:aws:kms:us-west-1:123456789012:key/mrk-app", "2"]
    }
  }

  assert {
    condition = alltrue([for t in ["app", "worker"] :
      output.task_environments[t]["MHP_KEYS_KMS_KEY_ID"] == "arn:aws:kms:us-west-1:123456789012:key/mrk-app"
      && lookup(output.task_environments[t], "MHP_KEYS_KMS_KEY_VERSION", null) == "2"
      && !contains(keys(output.task_environments[t]), "MHP_KEYS_KMS_PREVIOUS_KEY_IDS")
    ])
    error_message = "the recovery environment's tasks wrap and unwrap as version 2 with the replica app key, with no earlier key"
  }
  assert {
    condition     = contains(keys(module.secrets.parameter_arns), "keys.kms_key_version") && !contains(keys(module.secrets.parameter_arns), "keys.kms_previous_key_ids")
    error_message = "the recovery environment's own parameters hold the version its tasks wrap as"
  }
  assert {
    condition     = length(module.recovery_parameters) == 0 && output.app_kms_key_arn == "arn:aws:kms:us-west-1:123456789012:key/mrk-app"
    error_message = "a recovery environment names the replica it wraps with, and writes nothing in its own recovery region"
  }
}

run "an_environment_cannot_recover_itself" {
  command = plan
  variables {
    environment = "dr-use1"
    recovery_of = "dr-use1"
  }
  expect_failures = [var.recovery_of]
}
