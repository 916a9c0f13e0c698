# MHP's master key as the app's tasks get it (deploy/README.md "Multi-Region keys: the
# migration"): the app key alone by default; moved to another key, that key with the master
# version it wraps as and the earlier keys that still unwrap, each of which the task role may
# use as well.
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

run "the_app_key_alone_by_default" {
  command = plan

  assert {
    condition = alltrue([for c in slice(jsondecode(aws_ecs_task_definition.app.container_definitions), 0, 2) :
      contains(c.environment, { name = "MHP_KEYS_KMS_KEY_ID", value = var.app_kms_key_arn })
      && length([for e in c.environment : e if contains(["MHP_KEYS_KMS_KEY_VERSION", "MHP_KEYS_KMS_PREVIOUS_KEY_IDS"], e.name)]) == 0
    ])
    error_message = "serve and migrate wrap with the app key and are given no version and no earlier key (MHP's default: version 1)"
  }
  assert {
    condition     = toset(one([for s in data.aws_iam_policy_document.app.statement : s.resources if s.sid == "EnvelopeKeys"])) == toset([var.app_kms_key_arn, var.kms_key_arn])
    error_message = "the task role may use the app key and the data key, nothing more"
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
    condition = alltrue([for c in slice(jsondecode(aws_ecs_task_definition.app.container_definitions), 0, 2) :
      contains(c.environment, { name = "MHP_KEYS_KMS_KEY_ID", value = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef" })
      && contains(c.environment, { name = "MHP_KEYS_KMS_KEY_VERSION", value = "2" })
      && contains(c.environment, { name = "MHP_KEYS_KMS_PREVIOUS_KEY_IDS", value = "1=arn:aws:kms:us-east-1:123456789012:key/app" })
    ])
    error_message = "serve and migrate wrap with the new key as version 2 and unwrap version 1 with the earlier key"
  }
  assert {
    condition = toset(one([for s in data.aws_iam_policy_document.app.statement : s.resources if s.sid == "EnvelopeKeys"])) == toset([
      "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
      "arn:aws:kms:us-east-1:123456789012:key/app",
      var.kms_key_arn,
    ])
    error_message = "the task role may use the new key and the earlier one (and the data key)"
  }
  assert {
    condition     = toset(output.envelope_keys.actions) == toset(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]) && length(output.envelope_keys.resources) == 3
    error_message = "the output shows the task role's statement on the keys"
  }
}

run "an_earlier_key_must_have_an_earlier_version" {
  command = plan
  variables {
    app_kms_key_version       = 2
    app_kms_previous_key_arns = { "2" = "arn:aws:kms:us-east-1:123456789012:key/app" }
  }
  expect_failures = [var.app_kms_previous_key_arns]
}

run "an_earlier_key_is_named_by_its_arn" {
  command = plan
  variables {
    app_kms_key_version       = 2
    app_kms_previous_key_arns = { "1" = "alias/mhp-test-app" }
  }
  expect_failures = [var.app_kms_previous_key_arns]
}
