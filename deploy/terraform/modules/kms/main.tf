# Customer-managed KMS keys, one per purpose, so that a key policy can name exactly the
# services that may use it and a compromise or rotation of one purpose does not touch another.
#   data    - Aurora, S3 buckets, AWS Backup vault, EBS volumes of the ECS hosts
#   logs    - CloudWatch log groups (application, flow logs, WAF, OpenSearch), SNS topics
#   search  - both OpenSearch domains
#   secrets - Secrets Manager secrets and SSM SecureString parameters
#   app     - MHP's envelope-encryption master key (planned key `keys.kms_key_id`)

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  purposes = toset(["data", "logs", "search", "secrets", "app"])
  account  = data.aws_caller_identity.current.account_id
  root_arn = "arn:${data.aws_partition.current.partition}:iam::${local.account}:root"
}

data "aws_iam_policy_document" "key" {
  for_each = local.purposes

  # Key administration stays with the account (IAM policies decide who); without this
  # statement a key can become unmanageable.
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; IAM decides which principals of the account administer it.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; IAM decides which principals of the account administer it.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.root_arn]
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid = "CloudWatchLogsUse"
      actions = [
        "kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*",
      ]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${local.account}:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "AlarmAndFindingTopics"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "data" ? [1] : []
    content {
      sid       = "LogDeliveryAndConfig"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["delivery.logs.amazonaws.com", "config.amazonaws.com", "cloudtrail.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  for_each = local.purposes

  description             = "${var.name} ${each.key}"
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_in_days
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key[each.key].json
  tags                    = merge(var.tags, { "mhp:key-purpose" = each.key })
}

resource "aws_kms_alias" "this" {
  for_each = local.purposes

  name          = "alias/${var.name}-${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}
