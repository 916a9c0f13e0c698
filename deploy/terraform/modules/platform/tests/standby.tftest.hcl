# Issue 21, the recovery environment (runbook restore-to-new-region.md B) of prod-use1 in
# us-west-1, as the template root applies it: it makes no database of its own (it uses the
# secondary prod-use1 keeps there, promoted at recovery), and applied ahead of a disaster it
# stands by - the app service at 0 tasks (pilot light, the default) or a few (warm standby), no
# worker, no scheduled job, no container host but what placed tasks need - so that recovery
# scales it up rather than applying it for the first time; standby_app_count = null serves.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/mocks-copy"
}

variables {
  environment    = "dr-use1"
  flavour        = "production"
  recovery_of    = "prod-use1"
  hosted_zone_id = "Z0123456789"
}

# The known ARN of its own audit-export bucket, so that the plan can tell what AWS Backup
# selects (its data bucket is its source's replica, named by the parameters below).
override_resource {
  target          = module.object_store.module.audit_exports.aws_s3_bucket.this
  values          = { arn = "arn:aws:s3:::mhp-dr-use1-123456789012-audit-exports" }
  override_during = plan
}

# The parameters prod-use1 wrote in us-west-1 (modules/platform recovery.tf).
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

run "a_recovery_environment_uses_its_sources_secondary_and_makes_no_database" {
  command = plan

  assert {
    condition     = length(module.aurora) == 0 && !output.recovery.own_database
    error_message = "a recovery environment makes no Aurora cluster of its own"
  }
  assert {
    condition     = output.recovery.database.cluster == "mhp-prod-use1-secondary" && output.database_endpoint == "mhp-prod-use1-secondary.cluster-abcdefghijkl.us-west-1.rds.amazonaws.com"
    error_message = "its database, alarms and outputs are the secondary it recovers"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_ingress_rule.recovered_database)) == toset(["app", "worker"])
    error_message = "the secondary admits its app and workers"
  }
  assert {
    condition     = toset(keys(module.object_store.buckets)) == toset(["logs", "audit-exports"]) && module.object_store.data_bucket == null && module.object_store.backup_to == null && module.object_store.backup_keys_to == null && length(module.object_store.backup_bucket_arns) == 0
    error_message = "a recovery environment makes no data, backups or key-backups bucket of its own: its tasks use its source's replicas (only its audit exports and access logs are its own)"
  }
  assert {
    condition     = sort(module.backup.resource_arns) == tolist(["arn:aws:s3:::mhp-dr-use1-123456789012-audit-exports", "arn:aws:s3:::mhp-prod-use1-123456789012-data-replica"]) && module.backup.restore_test_resource_types == tolist(["S3"])
    error_message = "AWS Backup selects the buckets only - the data replica its tasks use and its audit exports: no cluster of its own to back up (the promoted secondary keeps its automated backups and point-in-time recovery)"
  }
  assert {
    condition     = output.recovery.restore_testing_plan != null
    error_message = "restores of the bucket are still tested"
  }
  assert {
    condition     = output.database_master_secret_arn == null && output.controls.aurora_deletion_protection == null && output.controls.aurora_backup_days == null
    error_message = "no master secret or cluster controls of a cluster it does not have"
  }
  assert {
    condition     = output.recovery.global_cluster == null && output.recovery.secondary == null && output.recovery.secondary_lag_alarms == null && output.recovery.alarm_topic == null
    error_message = "it keeps no global database, secondary or lag alarm of its own (its source alarms on the secondary's lag)"
  }
  assert {
    condition     = length(module.failover) == 0
    error_message = "no Route 53 records of its own: its source's SECONDARY record names its load balancer (a second PRIMARY of public_host would be refused)"
  }
}

run "ahead_of_a_disaster_it_stands_by_as_a_pilot_light" {
  command = plan

  assert {
    condition     = module.app.service_scaling.desired_count == 0 && module.app.service_scaling.min_capacity == 0 && module.app.hosts.min_size == 0 && module.app.service_scaling.standing_by
    error_message = "pilot light (the default): the app service exists with no task and no container host"
  }
  assert {
    condition     = module.app.service_scaling.max_capacity == 12 && module.app.hosts.max_size == 9 && module.app.service_scaling.resource_id == "service/mhp-dr-use1/mhp-app"
    error_message = "it keeps production's maximum sizes, to be scaled up to"
  }
  assert {
    condition     = module.pipelines.worker_count == 0 && length(module.pipelines.schedule_states) > 0 && alltrue([for st in values(module.pipelines.schedule_states) : st == "DISABLED"])
    error_message = "no worker and no scheduled job while the database they need is not promoted"
  }
  assert {
    condition     = module.observability.not_ready_missing_data == "missing"
    error_message = "a service with no task does not sit in the not-ready alarm"
  }
  assert {
    condition = output.recovery.standby == {
      app_tasks       = 0, worker_tasks = 0, schedules = "DISABLED", cluster = "mhp-dr-use1", app_service = "mhp-app", worker_service = "mhp-worker",
      serving_app_min = 3, serving_app_max = 12, serving_workers = 1
    }
    error_message = "the output says it stands by, and the sizes runbook B scales it up to"
  }
}

run "warm_standby_keeps_a_few_tasks" {
  command = plan
  variables {
    standby_app_count = 2
  }

  assert {
    condition     = module.app.service_scaling.desired_count == 2 && module.app.service_scaling.min_capacity == 2 && module.app.hosts.min_size == 0
    error_message = "warm standby: standby_app_count app tasks, on the hosts they need"
  }
  assert {
    condition     = module.pipelines.worker_count == 0 && output.recovery.standby.app_tasks == 2
    error_message = "still no worker while standing by"
  }
}

run "once_recovered_it_serves_at_production_size" {
  command = plan
  variables {
    standby_app_count = null
  }

  assert {
    condition     = module.app.service_scaling.desired_count == 3 && module.app.service_scaling.min_capacity == 3 && module.app.hosts.min_size == 3 && !module.app.service_scaling.standing_by
    error_message = "serving: production's tasks and hosts (an apply keeps the scaled-up service)"
  }
  assert {
    condition     = module.pipelines.worker_count == 1 && length(module.pipelines.schedule_states) > 0 && alltrue([for st in values(module.pipelines.schedule_states) : st == "ENABLED"])
    error_message = "serving: the worker and the scheduled jobs (MHP's backups, the drill) run"
  }
  assert {
    condition     = module.observability.not_ready_missing_data == "breaching" && output.recovery.standby == null
    error_message = "serving: no task reporting is an outage again"
  }
  assert {
    condition     = length(module.aurora) == 0
    error_message = "serving or not, it uses the promoted secondary"
  }
}

run "a_fraction_of_a_task_is_refused" {
  command = plan
  variables {
    standby_app_count = 1.5
  }
  expect_failures = [var.standby_app_count]
}
