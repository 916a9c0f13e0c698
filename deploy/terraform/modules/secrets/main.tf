# Secrets Manager for credentials, SSM Parameter Store for plain settings; both encrypted with
# the customer `secrets` key. Terraform creates the containers only: secret VALUES are put by
# the first-deployment runbook (aws secretsmanager put-secret-value), so no secret ever sits in
# Terraform code, plan output or state.
#
# With `replica`, the named secrets are replicated by Secrets Manager to the recovery region
# (read-only copies, encrypted there with that region's key): the mhp_app role's password comes
# with a recovered database, and its URL must be readable with the primary region down
# (docs/runbooks/restore-to-new-region.md).

resource "aws_secretsmanager_secret" "this" {
  for_each = var.secrets

  #checkov:skip=CKV2_AWS_57:database-url is assembled from the mhp_app role's password, rotated by the key-rotation runbook (docs/runbooks/rotate-keys-and-secrets.md); the Aurora master secret is rotated by RDS itself.
  name                    = "${var.prefix}/${each.key}"
  description             = each.value
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags

  dynamic "replica" {
    for_each = var.replica != null && contains(try(var.replica.secrets, []), each.key) ? [var.replica] : []
    content {
      region     = replica.value.region
      kms_key_id = replica.value.kms_key_arn
    }
  }
}

resource "aws_ssm_parameter" "this" {
  for_each = var.parameters

  name        = "/${var.prefix}/${each.key}"
  description = "MHP setting ${each.key}"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = each.value
  tags        = var.tags
}
