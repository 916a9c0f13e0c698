# The plans that deploy/check_app_config.py reads (scripts/check-deploy.sh runs this file with
# -json -verbose): for every flavour, a recovery environment, and both after an app key moved to
# a multi-Region key, each MHP container's environment, secrets and command, and each scheduled
# job's command, which the check hands to the built `mhp` binary (`mhp config check --strict`,
# and the commands' own parsers). The assertions here are the parts Terraform can check alone.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
  # Known values for what the tasks' settings are made of, so that the planned container
  # definitions are known too (their shape is what is checked, not these values).
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mhp-mock-123456789012-data" }
  }
  mock_resource "aws_opensearch_domain" {
    defaults = {
      arn      = "arn:aws:es:us-east-1:123456789012:domain/mhp-mock"
      endpoint = "vpc-mhp-mock-abcdefghijklmnop.us-east-1.es.amazonaws.com"
    }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/mock-AbCdEf" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/mhp/mock" }
  }
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/mocks-copy"
}

# Production as its roots plan it: with the Wazuh manager and a mail domain (the production
# roots require one), so that the syslog setting (MHP_SECURITY_SYSLOG_ADDRESS) and the SES mail
# settings (MHP_MAIL_TRANSPORT, MHP_MAIL_FROM, MHP_MAIL_SES_CONFIGURATION_SET) are checked against
# the binary too. The other flavours plan without a mail domain (MHP's default transport).
run "production_tasks" {
  command = plan
  variables {
    environment           = "prod-use1"
    flavour               = "production"
    wazuh_enabled         = true
    wazuh_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
    mail_domain           = "mail.example.org"
  }

  assert {
    condition     = output.shared_settings["MHP_HTTP_PUBLIC_URL"] == "https://mhp.example.org"
    error_message = "the tasks are told the public address"
  }
  assert {
    condition     = output.shared_settings["MHP_SECURITY_SYSLOG_ADDRESS"] == "wazuh.mhp.example.org:6514"
    error_message = "the tasks are told the Wazuh manager's syslog address"
  }
  assert {
    condition     = alltrue([for t in ["app", "worker"] : output.task_environments[t]["MHP_MAIL_TRANSPORT"] == "ses"])
    error_message = "the tasks send mail through SES"
  }
}

# Production whose app key was made single-Region, moved to the multi-Region key beside it
# (app_key_moved_to_multi_region, tests/app_key_move.tftest.hcl): MHP_KEYS_KMS_KEY_VERSION and
# MHP_KEYS_KMS_PREVIOUS_KEY_IDS are checked against the binary too.
run "production_tasks_after_the_app_key_moved" {
  command = plan
  variables {
    environment                   = "prod-use1"
    flavour                       = "production"
    mail_domain                   = "mail.example.org"
    app_key_moved_to_multi_region = true
  }

  override_module {
    target = module.kms
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
    condition     = alltrue([for t in ["app", "worker"] : lookup(output.task_environments[t], "MHP_KEYS_KMS_KEY_VERSION", null) == "2" && startswith(lookup(output.task_environments[t], "MHP_KEYS_KMS_PREVIOUS_KEY_IDS", ""), "1=")])
    error_message = "the tasks wrap as version 2 and name the earlier key"
  }
}

run "non_production_tasks" {
  command = plan
  variables {
    environment = "staging"
    flavour     = "non-production"
  }

  assert {
    condition     = output.shared_settings["MHP_HTTP_PUBLIC_URL"] == "https://mhp.example.org"
    error_message = "the tasks are told the public address"
  }
}

run "demo_tasks" {
  command = plan
  variables {
    environment = "demo-x"
    flavour     = "demo"
  }

  assert {
    condition     = output.shared_settings["MHP_HTTP_PUBLIC_URL"] == "https://mhp.example.org"
    error_message = "the tasks are told the public address"
  }
}

# A recovery environment (recovery_of, runbook B): its tasks' settings are the replicas its
# source left in the recovery region (the parameters as modules/platform/tests/recovery.tftest.hcl
# gives them).
run "recovery_tasks" {
  command = plan
  variables {
    environment = "dr-use1"
    flavour     = "production"
    recovery_of = "prod-use1"
    mail_domain = "mail.example.org"
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

  assert {
    condition     = output.task_environments["app"]["MHP_OBJECT_STORE_BUCKET"] == "mhp-prod-use1-123456789012-data-replica"
    error_message = "the recovery environment's tasks use the data replica"
  }
}

# A recovery environment of a source whose app key moved (keys.kms_key_version written there).
run "recovery_tasks_of_a_source_whose_app_key_moved" {
  command = plan
  variables {
    environment = "dr-use1"
    flavour     = "production"
    recovery_of = "prod-use1"
    mail_domain = "mail.example.org"
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
      names  = ["/mhp/prod-use1/keys.kms_key_id", "/mhp/prod-use1/keys.kms_key_version"]
      values = ["arn:aws:kms:us-west-1:123456789012:key/mrk-app", "2"]
    }
  }

  assert {
    condition     = lookup(output.task_environments["app"], "MHP_KEYS_KMS_KEY_VERSION", null) == "2"
    error_message = "the recovery environment's tasks wrap as the version its source moved to"
  }
}
