mock_provider "aws" {
  override_during = plan
}

variables {
  prefix      = "mhp/test"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  parameters  = { "object_store.bucket" = "mhp-test-data" }
}

run "customer_key_and_no_values" {
  command = plan

  assert {
    condition     = alltrue([for s in aws_secretsmanager_secret.this : s.kms_key_id == var.kms_key_arn])
    error_message = "secrets are encrypted with the customer secrets key"
  }
  assert {
    condition     = alltrue([for p in aws_ssm_parameter.this : p.type == "SecureString" && p.key_id == var.kms_key_arn])
    error_message = "parameters are SecureString under the customer key"
  }
  assert {
    condition     = contains(keys(aws_secretsmanager_secret.this), "database-url")
    error_message = "the database URL is a secret"
  }
  assert {
    condition     = alltrue([for s in aws_secretsmanager_secret.this : s.recovery_window_in_days == 30])
    error_message = "deleted secrets can be restored for 30 days"
  }
}
