mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name = "mhp-test"
}

run "every_key_rotates_and_waits_before_deletion" {
  command = plan

  assert {
    condition     = length(aws_kms_key.this) == 5
    error_message = "one key per purpose: data, logs, search, secrets, app"
  }
  assert {
    condition     = alltrue([for k in aws_kms_key.this : k.enable_key_rotation])
    error_message = "every key must rotate automatically"
  }
  assert {
    condition     = alltrue([for k in aws_kms_key.this : k.deletion_window_in_days == 30])
    error_message = "keys wait 30 days before deletion by default"
  }
}

run "deletion_window_is_bounded" {
  command = plan
  variables {
    deletion_window_in_days = 3
  }
  expect_failures = [var.deletion_window_in_days]
}
