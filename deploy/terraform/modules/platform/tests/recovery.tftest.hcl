# Issue 21: production has what recovery in its recovery region (the copy region) needs; the
# other flavours keep AWS Backup's copies only.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  mock_data "aws_region" {
    defaults = { name = "us-west-1" }
  }
}

run "production_recovers_in_its_recovery_region" {
  command = plan
  variables {
    environment    = "prod-use1"
    flavour        = "production"
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
    condition     = output.recovery.restore_testing_plan != null
    error_message = "restores are tested in every flavour"
  }
  assert {
    condition     = length(module.failover) == 0
    error_message = "no failover records without a hosted zone"
  }
}
