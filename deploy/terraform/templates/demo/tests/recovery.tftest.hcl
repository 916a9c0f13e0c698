# The template root hands a recovery environment's source (MHP_RECOVERY_OF) and a production
# environment's recovery network to modules/platform (which tests/recovery.tftest.hcl there
# asserts in full). Run by scripts/check-deploy.sh (terraform-test) against a mock AWS.

mock_provider "aws" {
  override_during = plan
  source          = "../../modules/platform/tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "../../modules/platform/tests/mocks-copy"
}

# Production (every run here); the recovery environment dr-use1 in us-west-1 unless a run names
# demo-x in us-east-1.
variables {
  allowed_account_ids = ["123456789012"]
  image               = "123456789012.dkr.ecr.us-west-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  certificate_arn     = "arn:aws:acm:us-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  public_host         = "dr.example.org"
  flavour             = "production"
  name                = "dr-use1"
  region              = "us-west-1"
}

# mhp-env up demo-x us-east-1 --production: the recovery network in the recovery region.
run "a_production_environment_keeps_a_network_in_its_recovery_region" {
  command = plan
  variables {
    name   = "demo-x"
    region = "us-east-1"
  }

  assert {
    condition     = output.recovery_region == "us-west-1" && output.recovery.network.vpc_cidr == "10.101.0.0/16"
    error_message = "a production-flavoured environment of the template keeps its recovery network (10.101.0.0/16 by default) in its recovery region"
  }
  assert {
    condition     = !contains(keys(output.recovery.settings), "keys.kms_key_version")
    error_message = "by default (app_key_moved_to_multi_region false) the app key wraps as MHP's default version: no version parameter"
  }
}

# The parameters prod-use1 wrote in us-west-1 (modules/platform recovery.tf), for the recovery
# environment's runs.
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["object_store.bucket"]
  values = { value = "mhp-prod-use1-123456789012-data-replica" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["object_store.kms_key_id"]
  values = { value = "arn:aws:kms:us-west-1:123456789012:key/mrk-data" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["keys.kms_key_id"]
  values = { value = "arn:aws:kms:us-west-1:123456789012:key/mrk-app" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["backup.to"]
  values = { value = "s3://mhp-prod-use1-123456789012-backups-replica/mhp" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["backup.keys_to"]
  values = { value = "s3://mhp-prod-use1-123456789012-key-backups-replica/mhp" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.vpc_id"]
  values = { value = "vpc-recovery" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.vpc_cidr"]
  values = { value = "10.130.0.0/16" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.azs"]
  values = { value = "us-west-1a,us-west-1c" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.public_subnet_ids"]
  values = { value = "subnet-pub-a,subnet-pub-c" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.private_subnet_ids"]
  values = { value = "subnet-priv-a,subnet-priv-c" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.data_subnet_ids"]
  values = { value = "subnet-data-a,subnet-data-c" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.flow_log_group"]
  values = { value = "/mhp/mhp-prod-use1-recovery/vpc-flow-logs" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.database_cluster"]
  values = { value = "mhp-prod-use1-secondary" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.database_endpoint"]
  values = { value = "mhp-prod-use1-secondary.cluster-abcdefghijkl.us-west-1.rds.amazonaws.com" }
}
override_data {
  target = module.platform.data.aws_ssm_parameter.recovered["recovery.database_security_group_id"]
  values = { value = "sg-secondary" }
}

# MHP_RECOVERY_OF=prod-use1 mhp-env up dr-use1 us-west-1 --production (runbook B, step 3).
run "a_recovery_environment_runs_on_what_its_source_left" {
  command = plan
  variables {
    recovery_of = "prod-use1"
  }

  assert {
    condition     = output.recovery.recovering == "prod-use1" && output.recovery.database.cluster == "mhp-prod-use1-secondary"
    error_message = "the template hands recovery_of to the platform: the environment uses its source's secondary"
  }
  assert {
    condition     = output.recovery.network == null && length(output.recovery.replicated_keys) == 0
    error_message = "a recovery environment keeps nothing in its own recovery region (perhaps the lost one)"
  }
  assert {
    condition     = !output.recovery.own_database && output.controls.aurora_deletion_protection == null
    error_message = "a recovery environment makes no database of its own: it uses its source's secondary"
  }
  assert {
    condition     = output.recovery.standby.app_tasks == 0 && output.recovery.standby.worker_tasks == 0 && output.recovery.standby.serving_app_min == 3
    error_message = "applied ahead of a disaster, it stands by as a pilot light (MHP_STANDBY_APP_COUNT unset)"
  }
}

# MHP_STANDBY_APP_COUNT=2: warm standby; =serving (null) once it serves.
run "a_recovery_environment_stands_by_warm_or_serves" {
  command = plan
  variables {
    recovery_of       = "prod-use1"
    standby_app_count = 2
  }

  assert {
    condition     = output.recovery.standby.app_tasks == 2
    error_message = "the template hands standby_app_count to the platform"
  }
}

run "a_recovered_environment_serves" {
  command = plan
  variables {
    recovery_of       = "prod-use1"
    standby_app_count = null
  }

  assert {
    condition     = output.recovery.standby == null && output.recovery.recovering == "prod-use1"
    error_message = "standby_app_count = null: the recovery environment serves"
  }
}

# TF_VAR_app_key_moved_to_multi_region=true mhp-env up demo-x us-east-1 --production, for an
# environment applied before its keys were multi-Region: the template hands the switch to
# modules/platform (tests/app_key_move.tftest.hcl there asserts it in full).
run "the_app_key_moves_when_the_template_is_told_so" {
  command = plan
  variables {
    name                          = "demo-x"
    region                        = "us-east-1"
    app_key_moved_to_multi_region = true
  }

  override_module {
    target = module.platform.module.kms
    outputs = {
      key_arns = {
        app     = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
        data    = "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222"
        logs    = "arn:aws:kms:us-east-1:123456789012:key/33333333-3333-3333-3333-333333333333"
        search  = "arn:aws:kms:us-east-1:123456789012:key/44444444-4444-4444-4444-444444444444"
        secrets = "arn:aws:kms:us-east-1:123456789012:key/55555555-5555-5555-5555-555555555555"
      }
      multi_region_key_arns = {
        app  = "arn:aws:kms:us-east-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        data = "arn:aws:kms:us-east-1:123456789012:key/mrk-dddddddddddddddddddddddddddddddd"
      }
      replica_key_arns = {
        app  = "arn:aws:kms:us-west-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        data = "arn:aws:kms:us-west-1:123456789012:key/mrk-dddddddddddddddddddddddddddddddd"
      }
      single_region_in_use = ["app", "data"]
    }
  }

  assert {
    condition     = output.platform.app_kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    error_message = "the tasks wrap with the multi-Region app key"
  }
  assert {
    condition     = lookup(output.recovery.settings, "keys.kms_key_id", null) == "arn:aws:kms:us-west-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" && lookup(output.recovery.settings, "keys.kms_key_version", null) == "2"
    error_message = "the recovery region is told the replica of the multi-Region app key and the version it wraps as"
  }
}

# MHP_RECOVERY_OF=prod-apse2 mhp-env up dr-apse2 ap-southeast-4 --production (runbook B for
# prod-apse2): ap-southeast-4 is no production region of its own, but it is prod-apse2's
# recovery region, so a recovery environment may be made there; its backups are copied back to
# its source's region, ap-southeast-2 (Australian health data stays in Australia).
run "a_recovery_environment_of_prod_apse2_plans_in_ap_southeast_4" {
  command = plan
  variables {
    name            = "dr-apse2"
    region          = "ap-southeast-4"
    recovery_of     = "prod-apse2"
    image           = "123456789012.dkr.ecr.ap-southeast-4.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
    certificate_arn = "arn:aws:acm:ap-southeast-4:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }

  # The parameters prod-apse2 wrote in ap-southeast-4.
  override_data {
    target = module.platform.data.aws_region.copy
    values = { name = "ap-southeast-2" }
  }
  override_data {
    target = module.platform.data.aws_ssm_parameter.recovered["recovery.database_cluster"]
    values = { value = "mhp-prod-apse2-secondary" }
  }
  override_data {
    target = module.platform.data.aws_ssm_parameter.recovered["recovery.azs"]
    values = { value = "ap-southeast-4a,ap-southeast-4b" }
  }

  assert {
    condition     = output.recovery_region == "ap-southeast-2"
    error_message = "a recovery environment copies its backups back to its source's region: ap-southeast-4's source region is ap-southeast-2"
  }
  assert {
    condition     = output.recovery.recovering == "prod-apse2" && output.recovery.database.cluster == "mhp-prod-apse2-secondary"
    error_message = "the recovery environment of prod-apse2 uses prod-apse2's secondary in ap-southeast-4"
  }
  assert {
    condition     = output.recovery.network == null && !output.recovery.own_database && output.recovery.standby.app_tasks == 0
    error_message = "a recovery environment keeps nothing in its copy region, makes no database and stands by as a pilot light"
  }
}

# ap-southeast-4 is only a recovery region: an environment of its own is refused there, and a
# recovery environment is refused where no production region recovers (ap-southeast-2).
run "ap_southeast_4_takes_only_a_recovery_environment" {
  command = plan
  variables {
    name   = "demo-x"
    region = "ap-southeast-4"
  }
  expect_failures = [var.region]
}

run "no_recovery_environment_where_no_region_recovers" {
  command = plan
  variables {
    region      = "ap-southeast-2"
    recovery_of = "prod-use1"
  }
  expect_failures = [var.region]
}
