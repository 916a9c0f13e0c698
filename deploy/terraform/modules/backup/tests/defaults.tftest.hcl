mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
  mock_resource "aws_backup_vault" {
    defaults = { arn = "arn:aws:backup:us-west-1:123456789012:backup-vault:mhp-test-copy" }
  }
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/copy-mocks"
}

run "production_backups" {
  command = plan

  assert {
    condition     = aws_backup_vault.this.kms_key_arn == var.kms_key_arn
    error_message = "the vault is encrypted with the customer key"
  }
  assert {
    condition     = alltrue([for r in aws_backup_plan.this.rule : length(r.copy_action) == 1])
    error_message = "every recovery point is copied to the second region"
  }
  assert {
    condition     = one([for r in aws_backup_plan.this.rule : r.enable_continuous_backup if r.rule_name == "daily"])
    error_message = "continuous backup gives point-in-time restore"
  }
  assert {
    condition     = one([for r in aws_backup_plan.this.rule : r.lifecycle[0].delete_after if r.rule_name == "monthly"]) >= 2190
    error_message = "monthly recovery points are kept six years in production"
  }
  assert {
    condition     = length(aws_backup_vault_lock_configuration.this) == 1 && length(aws_backup_vault_lock_configuration.copy) == 1
    error_message = "both vaults are locked by default"
  }
  assert {
    condition     = !aws_backup_vault.this.force_destroy
    error_message = "recovery points are never force-deleted by default"
  }
}
