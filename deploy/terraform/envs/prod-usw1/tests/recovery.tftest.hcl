# Recovery in us-east-1, this root's copy region (deploy/README.md "RTO and RPO"): the root keeps a
# network there for its Aurora global database's secondary and for a recovery environment, in a
# CIDR no other VPC of deploy/README.md "Environments" has, and writes there, as SSM parameters
# under /mhp/prod-usw1/, what a recovery environment reads; its keys are never replaced over their
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
  image                 = "123456789012.dkr.ecr.us-west-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  public_host           = "mhp.example.org"
  certificate_arn       = "arn:aws:acm:us-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  wazuh_certificate_arn = "arn:aws:acm:us-west-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
  mail_domain           = "mail.example.org"
}

run "the_recovery_region_holds_a_secondary_and_the_settings_to_recover" {
  command = plan

  assert {
    condition     = output.recovery.network.vpc_cidr == "10.131.0.0/16"
    error_message = "the recovery network has this root's recovery CIDR"
  }
  # Every VPC of deploy/README.md "Environments" is a /16 of 10.0.0.0/8: a different second
  # octet is a different network.
  assert {
    condition     = endswith(output.recovery.network.vpc_cidr, "/16") && !contains([for o in ["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "10.31.0.0/16", "10.32.0.0/16", "10.100.0.0/16", "10.101.0.0/16", "10.130.0.0/16", "10.132.0.0/16"] : split(".", o)[1]], split(".", output.recovery.network.vpc_cidr)[1])
    error_message = "the recovery network's CIDR overlaps no other VPC (deploy/README.md \"Environments\"): the networks may be peered"
  }
  assert {
    condition     = output.recovery.secondary.cluster_identifier == "mhp-prod-usw1-secondary" && output.recovery.global_cluster == "mhp-prod-usw1-global"
    error_message = "the global database has its secondary in the recovery region"
  }
  assert {
    condition     = alltrue([for n in ["object_store.bucket", "object_store.kms_key_id", "keys.kms_key_id", "backup.to", "backup.keys_to", "recovery.database_endpoint", "recovery.database_security_group_id", "recovery.vpc_id"] : contains(keys(output.recovery.settings), n)])
    error_message = "the root writes the replica keys and buckets, the secondary's endpoint and the recovery network as parameters in the recovery region, and outputs them"
  }
  assert {
    condition     = output.recovery.parameter_prefix == "/mhp/prod-usw1/" && toset(output.recovery.replicated_secrets) == toset(["database-url", "key-store-url"])
    error_message = "the parameters are under this environment's prefix; the database and key-store URLs are replicated"
  }
  assert {
    condition     = output.recovery.alarm_topic != null && toset(keys(output.recovery.secondary_lag_alarms)) == toset(["rpo", "replication"]) && output.recovery.secondary_lag_alarms["rpo"].threshold_ms == 900000 && toset(keys(output.recovery.s3_replication_alarms)) == toset(["data", "backups", "key-backups"])
    error_message = "the replication to the recovery region is alarmed at the 15-minute RPO: the secondary's lag there, the buckets' replication here"
  }
}
