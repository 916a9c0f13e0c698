# MHP's master key as the workers' tasks (and the scheduled jobs, which run in the worker
# container) get it (deploy/README.md "Multi-Region keys: the migration"), as the app's: the app
# key alone by default; moved to another key, that key with the master version it wraps as and
# the earlier keys that still unwrap, each of which the worker role may use as well.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn                  = "arn:aws:ecs:us-east-1:123456789012:task-definition/mhp-test-worker:1"
      arn_without_revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/mhp-test-worker"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mhp-test-role" }
  }
}

variables {
  name                = "mhp-test"
  image               = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  cluster_arn         = "arn:aws:ecs:us-east-1:123456789012:cluster/mhp-test"
  vpc_id              = "vpc-0123456789abcdef0"
  vpc_cidr            = "10.40.0.0/16"
  private_subnet_ids  = ["subnet-a", "subnet-b"]
  kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/data"
  app_kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/app"
  secrets_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  secret_env          = { DATABASE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/database-url", MHP_KEYS_STORE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/key-store-url" }
  data_bucket_arn     = "arn:aws:s3:::mhp-test-123456789012-data"
  log_group_name      = "/mhp/mhp-test/worker"
  backup_bucket_arns  = ["arn:aws:s3:::mhp-test-123456789012-backups", "arn:aws:s3:::mhp-test-123456789012-key-backups"]
  environment_variables = {
    MHP_HTTP_PUBLIC_URL = "https://mhp.example.org"
    MHP_BACKUP_TO       = "s3://mhp-test-123456789012-backups/mhp"
  }
}

run "the_app_key_alone_by_default" {
  command = plan

  assert {
    condition = alltrue([for c in jsondecode(aws_ecs_task_definition.worker.container_definitions) :
      contains(c.environment, { name = "MHP_KEYS_KMS_KEY_ID", value = var.app_kms_key_arn })
      && length([for e in c.environment : e if contains(["MHP_KEYS_KMS_KEY_VERSION", "MHP_KEYS_KMS_PREVIOUS_KEY_IDS"], e.name)]) == 0
    ])
    error_message = "worker and migrate wrap with the app key and are given no version and no earlier key (MHP's default: version 1)"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.worker.statement : s.resources if s.sid == "EnvelopeKeys"])) == toset([var.app_kms_key_arn, var.kms_key_arn])
    error_message = "the worker role may use the app key and the data key, nothing more"
  }
}

run "moved_to_another_key_the_earlier_one_still_unwraps" {
  command = plan
  variables {
    app_kms_key_arn           = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
    app_kms_key_version       = 2
    app_kms_previous_key_arns = { "1" = "arn:aws:kms:us-east-1:123456789012:key/app" }
  }

  assert {
    condition = alltrue([for c in jsondecode(aws_ecs_task_definition.worker.container_definitions) :
      contains(c.environment, { name = "MHP_KEYS_KMS_KEY_ID", value = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef" })
      && contains(c.environment, { name = "MHP_KEYS_KMS_KEY_VERSION", value = "2" })
      && contains(c.environment, { name = "MHP_KEYS_KMS_PREVIOUS_KEY_IDS", value = "1=arn:aws:kms:us-east-1:123456789012:key/app" })
    ])
    error_message = "worker and migrate (and so the scheduled jobs) wrap with the new key as version 2 and unwrap version 1 with the earlier key"
  }
  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.worker.statement : s.resources if s.sid == "EnvelopeKeys"])) == toset([
      "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
      "arn:aws:kms:us-east-1:123456789012:key/app",
      var.kms_key_arn,
    ])
    error_message = "the worker role may use the new key and the earlier one (and the data key)"
  }
  assert {
    condition     = toset(output.envelope_keys.actions) == toset(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]) && length(output.envelope_keys.resources) == 3
    error_message = "the output shows the worker role's statement on the keys"
  }
}

run "an_earlier_key_must_have_an_earlier_version" {
  command = plan
  variables {
    app_kms_previous_key_arns = { "1" = "arn:aws:kms:us-east-1:123456789012:key/app" }
  }
  expect_failures = [var.app_kms_previous_key_arns]
}
