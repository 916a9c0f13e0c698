# An environment whose app key was made single-Region (applied before its keys were
# multi-Region) moves MHP's master key to the multi-Region key beside it with
# app_key_moved_to_multi_region (deploy/README.md "Multi-Region keys: the migration"): the tasks
# wrap with that key as master version 2 while the single-Region key still unwraps version 1,
# their roles may use both, and the recovery region is told the replica and the version. Without
# it nothing changes. A recovery environment takes the version its source wrote.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
  # Known values for what the task roles' policies are made of (as in tests/contract.tftest.hcl),
  # so that the planned statements are known too.
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

variables {
  environment = "prod-use1"
  flavour     = "production"
}

# The keys of an environment applied before its keys were multi-Region, after replication was
# turned on (modules/kms tests/migration.tftest.hcl makes exactly this): its single-Region keys
# in use, a multi-Region key beside the app and data keys, the replicas of those in us-west-1.
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

run "a_single_region_app_key_stays_as_it_is_until_moved" {
  command = plan

  assert {
    condition = alltrue([for t in ["app", "worker"] :
      output.task_environments[t]["MHP_KEYS_KMS_KEY_ID"] == "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
      && !contains(keys(output.task_environments[t]), "MHP_KEYS_KMS_KEY_VERSION")
      && !contains(keys(output.task_environments[t]), "MHP_KEYS_KMS_PREVIOUS_KEY_IDS")
    ])
    error_message = "without app_key_moved_to_multi_region the tasks keep the single-Region app key and get no version and no earlier key (an existing environment's plan does not change)"
  }
  assert {
    condition = alltrue([for r in [module.app.envelope_keys, module.pipelines.envelope_keys] :
      toset(r.resources) == toset([
        "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111",
        "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222",
      ])
    ])
    error_message = "without the move the task roles may use the app key in use and the data key, nothing more"
  }
  assert {
    condition     = !contains(keys(output.recovery.settings), "keys.kms_key_id") && !contains(keys(output.recovery.settings), "keys.kms_key_version")
    error_message = "the recovery region names no app key while the organisation keys are wrapped by a key without a replica"
  }
  assert {
    condition     = !contains(keys(module.secrets.parameter_arns), "keys.kms_key_version") && !contains(keys(module.secrets.parameter_arns), "keys.kms_previous_key_ids")
    error_message = "without the move the environment's parameters are those of before"
  }
  assert {
    condition     = output.app_kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111" && contains(output.recovery.single_region_keys_in_use, "app")
    error_message = "the output names the single-Region app key in use"
  }
}

run "the_app_key_moves_to_the_multi_region_key_beside_it" {
  command = plan
  variables {
    app_key_moved_to_multi_region = true
  }

  # The app's and the workers' tasks (the scheduled jobs run the worker's task definition).
  assert {
    condition = alltrue([for t in ["app", "worker"] :
      output.task_environments[t]["MHP_KEYS_KMS_KEY_ID"] == "arn:aws:kms:us-east-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      && lookup(output.task_environments[t], "MHP_KEYS_KMS_KEY_VERSION", null) == "2"
      && lookup(output.task_environments[t], "MHP_KEYS_KMS_PREVIOUS_KEY_IDS", null) == "1=arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
    ])
    error_message = "the tasks wrap with the multi-Region app key as version 2, the single-Region key still unwrapping version 1"
  }
  assert {
    condition     = output.app_kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    error_message = "the output names the key the tasks wrap with"
  }
  assert {
    condition = alltrue([for r in [module.app.envelope_keys, module.pipelines.envelope_keys] :
      toset(r.resources) == toset([
        "arn:aws:kms:us-east-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111",
        "arn:aws:kms:us-east-1:123456789012:key/22222222-2222-2222-2222-222222222222",
      ])
      && contains(r.actions, "kms:Encrypt") && contains(r.actions, "kms:Decrypt")
    ])
    error_message = "the app's and the workers' roles may encrypt and decrypt with the multi-Region app key and the single-Region one (and the data key)"
  }
  # The recovery region: the replica of the key moved to, and the version it wraps as.
  assert {
    condition     = lookup(output.recovery.settings, "keys.kms_key_id", null) == "arn:aws:kms:us-west-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" && lookup(output.recovery.settings, "keys.kms_key_version", null) == "2"
    error_message = "the recovery region's keys.kms_key_id names the replica of the multi-Region app key, keys.kms_key_version its version (2)"
  }
  assert {
    condition     = !contains(keys(output.recovery.settings), "keys.kms_previous_key_ids") && alltrue([for n in ["keys.kms_key_id", "keys.kms_key_version"] : contains(keys(output.recovery.parameter_arns), n)])
    error_message = "both are SSM parameters of the recovery region, and no earlier key is named there (it has no replica)"
  }
  assert {
    condition     = alltrue([for n in ["keys.kms_key_id", "keys.kms_key_version", "keys.kms_previous_key_ids"] : contains(keys(module.secrets.parameter_arns), n)])
    error_message = "the environment's own parameters hold the tasks' key settings by their names"
  }
}

# A key made multi-Region (a new production environment) has nothing to move to.
run "a_multi_region_app_key_refuses_the_move" {
  command = plan
  variables {
    app_key_moved_to_multi_region = true
  }
  override_module {
    target = module.kms
    outputs = {
      key_arns = {
        app     = "arn:aws:kms:us-east-1:123456789012:key/mrk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        data    = "arn:aws:kms:us-east-1:123456789012:key/mrk-dddddddddddddddddddddddddddddddd"
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
      single_region_in_use = []
    }
  }
  expect_failures = [var.app_key_moved_to_multi_region]
}

# The other flavours keep no multi-Region key (modules/kms outputs as it plans them there).
run "other_flavours_refuse_the_move" {
  command = plan
  variables {
    environment                   = "staging"
    flavour                       = "non-production"
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
      multi_region_key_arns = {}
      replica_key_arns      = {}
      single_region_in_use  = []
    }
  }
  expect_failures = [var.app_key_moved_to_multi_region]
}
