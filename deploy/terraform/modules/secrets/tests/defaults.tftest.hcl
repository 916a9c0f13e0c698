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

run "no_replicas_unless_asked" {
  command = plan

  assert {
    condition     = alltrue([for s in aws_secretsmanager_secret.this : length(s.replica) == 0])
    error_message = "secrets stay in their region by default"
  }
}

# Production (issue 21): the database's and the key store's URLs are readable in the recovery
# region with the primary region down, encrypted there with that region's key.
run "database_and_key_store_urls_are_replicated_to_the_recovery_region" {
  command = plan

  variables {
    secrets = {
      "database-url"  = "DATABASE_URL"
      "key-store-url" = "keys.store_url"
      "regional"      = "a secret of this region only"
    }
    replica = {
      region      = "us-west-1"
      kms_key_arn = "arn:aws:kms:us-west-1:123456789012:key/recovery-secrets"
      secrets     = ["database-url", "key-store-url"]
    }
  }

  assert {
    condition = alltrue([for k in ["database-url", "key-store-url"] :
      length(aws_secretsmanager_secret.this[k].replica) == 1
      && try(one(aws_secretsmanager_secret.this[k].replica).region, null) == "us-west-1"
      && try(one(aws_secretsmanager_secret.this[k].replica).kms_key_id, null) == "arn:aws:kms:us-west-1:123456789012:key/recovery-secrets"
    ])
    error_message = "database-url and key-store-url have a replica in the recovery region under that region's key"
  }
  assert {
    condition     = length(aws_secretsmanager_secret.this["regional"].replica) == 0
    error_message = "only the named secrets are replicated"
  }
}

run "a_replica_of_an_unknown_secret_is_refused" {
  command = plan

  variables {
    replica = {
      region      = "us-west-1"
      kms_key_arn = "arn:aws:kms:us-west-1:123456789012:key/recovery-secrets"
      secrets     = ["database-password"]
    }
  }

  expect_failures = [var.replica]
}
