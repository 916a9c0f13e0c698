# Recovery in us-west-1, this root's copy region (deploy/README.md "RTO and RPO"): the root keeps a
# network there for its Aurora global database's secondary and for a recovery environment, in a
# CIDR no other VPC of deploy/README.md "Environments" has, and writes there, as SSM parameters
# under /mhp/prod-use1/, what a recovery environment reads; its keys are never replaced over their
# type (modules/kms tests/migration.tftest.hcl). Run by scripts/check-deploy.sh (terraform-test)
# against a mock AWS.

mock_provider "aws" {
  override_during = plan
  source          = "../../modules/platform/tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "../../modules/platform/tests/mocks-copy"
}

variables {
  allowed_account_ids   = ["123456789012"]
  image                 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  public_host           = "mhp.example.org"
  certificate_arn       = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  wazuh_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
  mail_domain           = "mail.example.org"
}

run "the_recovery_region_holds_a_secondary_and_the_settings_to_recover" {
  command = plan

  assert {
    condition     = output.recovery.network.vpc_cidr == "10.130.0.0/16"
    error_message = "the recovery network has this root's recovery CIDR"
  }
  # Every VPC of deploy/README.md "Environments" is a /16 of 10.0.0.0/8: a different second
  # octet is a different network.
  assert {
    condition     = endswith(output.recovery.network.vpc_cidr, "/16") && !contains([for o in ["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "10.31.0.0/16", "10.32.0.0/16", "10.100.0.0/16", "10.101.0.0/16", "10.131.0.0/16", "10.132.0.0/16"] : split(".", o)[1]], split(".", output.recovery.network.vpc_cidr)[1])
    error_message = "the recovery network's CIDR overlaps no other VPC (deploy/README.md \"Environments\"): the networks may be peered"
  }
  assert {
    condition     = output.recovery.secondary.cluster_identifier == "mhp-prod-use1-secondary" && output.recovery.global_cluster == "mhp-prod-use1-global"
    error_message = "the global database has its secondary in the recovery region"
  }
  assert {
    condition     = alltrue([for n in ["object_store.bucket", "object_store.kms_key_id", "keys.kms_key_id", "backup.to", "backup.keys_to", "recovery.database_endpoint", "recovery.database_security_group_id", "recovery.vpc_id"] : contains(keys(output.recovery.settings), n)])
    error_message = "the root writes the replica keys and buckets, the secondary's endpoint and the recovery network as parameters in the recovery region, and outputs them"
  }
  assert {
    condition     = !contains(keys(output.recovery.settings), "keys.kms_key_version") && !contains(keys(output.recovery.settings), "keys.kms_previous_key_ids")
    error_message = "by default (app_key_moved_to_multi_region false) the app key wraps as MHP's default version: no version parameter"
  }
  assert {
    condition     = output.recovery.parameter_prefix == "/mhp/prod-use1/" && toset(output.recovery.replicated_secrets) == toset(["database-url", "key-store-url"])
    error_message = "the parameters are under this environment's prefix; the database and key-store URLs are replicated"
  }
  assert {
    condition     = output.recovery.alarm_topic != null && toset(keys(output.recovery.secondary_lag_alarms)) == toset(["rpo", "replication"]) && output.recovery.secondary_lag_alarms["rpo"].threshold_ms == 900000 && toset(keys(output.recovery.s3_replication_alarms)) == toset(["data", "backups", "key-backups"])
    error_message = "the replication to the recovery region is alarmed at the 15-minute RPO: the secondary's lag there, the buckets' replication here"
  }
}

# MHP's master key moved to the multi-Region app key beside a single-Region one
# (app_key_moved_to_multi_region, deploy/README.md "Multi-Region keys: the migration"): the root
# hands the switch to modules/platform (tests/app_key_move.tftest.hcl there asserts it in full),
# here on the keys of an environment applied before its keys were multi-Region.
run "the_app_key_moves_when_the_root_says_so" {
  command = plan
  variables {
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
