# Customer-managed KMS keys, one per purpose, so that a key policy can name exactly the
# services that may use it and a compromise or rotation of one purpose does not touch another.
#   data    - Aurora, S3 buckets, AWS Backup vault, EBS volumes of the ECS hosts (launched by
#             EC2 Auto Scaling's service-linked role), CloudTrail log files
#   logs    - CloudWatch log groups (application, flow logs, WAF, OpenSearch), SNS topics
#             (alarms, with SES's bounce and complaint events; findings, CloudTrail notifications)
#   search  - both OpenSearch domains
#   secrets - Secrets Manager secrets and SSM SecureString parameters
#   app     - MHP's envelope-encryption master key (planned key `keys.kms_key_id`)
#
# Multi-Region keys (deploy/README.md "Multi-Region keys: the migration"): the purposes in
# replicated_purposes get a multi-Region primary with a replica in the recovery region
# (aws.replica). multi_region cannot change on an existing key (AWS replaces it, and with it
# every ciphertext it opens), so a key is never replaced over it: an environment whose key of
# such a purpose was made single-Region keeps that key for what it encrypts already, and gets a
# multi-Region key beside it (aws_kms_key.multi_region) whose replica the recovery region uses.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  purposes  = toset(var.purposes)
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  root_arn  = "arn:${local.partition}:iam::${local.account}:root"
  # Any trail of this account (modules/security-baseline names it <name>-trail; multi-region
  # trails deliver from every region).
  trail_arns = "arn:${local.partition}:cloudtrail:*:${local.account}:trail/*"
  # EC2 Auto Scaling's service-linked role, which launches the ECS hosts.
  autoscaling_role_arn = "arn:${local.partition}:iam::${local.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
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
      # SES: bounce and complaint events of modules/mail's configuration set to the alarm topic.
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "backup.amazonaws.com", "ses.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }

  # CloudTrail's SNS topic (modules/security-baseline) is encrypted with this key: CloudTrail
  # needs a data key to publish to it (AWS: "encrypted topics and AWS service event sources").
  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "CloudTrailPublishesToEncryptedTopic"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [local.trail_arns]
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
        identifiers = ["delivery.logs.amazonaws.com", "config.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account]
      }
    }
  }

  # CloudTrail encrypts the trail's log files with this key (aws_cloudtrail.kms_key_id): the
  # statements of AWS's "Configure AWS KMS key policies for CloudTrail" - encrypt with the
  # trail's encryption context, describe the key, and decrypt, which CreateTrail needs when the
  # bucket uses an S3 Bucket Key (modules/s3-bucket turns it on with SSE-KMS).
  dynamic "statement" {
    for_each = each.key == "data" ? [1] : []
    content {
      sid       = "CloudTrailEncryptsLogFiles"
      actions   = ["kms:GenerateDataKey*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [local.trail_arns]
      }
      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:cloudtrail:arn"
        values   = ["arn:${local.partition}:cloudtrail:*:${local.account}:trail/*"]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "data" ? [1] : []
    content {
      sid       = "CloudTrailDescribesKeyAndDecrypts"
      actions   = ["kms:DescribeKey", "kms:Decrypt"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [local.trail_arns]
      }
    }
  }

  # The ECS hosts' EBS volumes are encrypted with this key (modules/ecs-app launch template), and
  # EC2 Auto Scaling launches them as its service-linked role: without these two statements
  # (AWS: "Required KMS key policy for use with encrypted volumes") instances fail to launch.
  # The role is named by aws:PrincipalArn under a wildcard principal rather than as the
  # principal itself: KMS refuses a key policy naming a role that does not exist yet, and
  # AWSServiceRoleForAutoScaling only appears with the account's first Auto Scaling group, which
  # needs this key first.
  dynamic "statement" {
    for_each = each.key == "data" ? [1] : []
    content {
      sid       = "AutoScalingUsesKeyForEbs"
      actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:PrincipalArn"
        values   = [local.autoscaling_role_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "kms:CallerAccount"
        values   = [local.account]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "data" ? [1] : []
    content {
      sid       = "AutoScalingAttachesEbs"
      actions   = ["kms:CreateGrant"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:PrincipalArn"
        values   = [local.autoscaling_role_arn]
      }
      condition {
        test     = "StringEquals"
        variable = "kms:CallerAccount"
        values   = [local.account]
      }
      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  for_each = local.purposes

  description = "${var.name} ${each.key}"
  # Multi-Region primaries for the purposes that must open data in the recovery region (the
  # app key unwraps the key store's organisation keys and root; the data key opens replicated
  # objects and backups), when the key is made. An existing key keeps its type (lifecycle).
  multi_region            = contains(var.replicated_purposes, each.key)
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_in_days
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key[each.key].json
  tags                    = merge(var.tags, { "mhp:key-purpose" = each.key })

  lifecycle {
    # multi_region forces a new key: turning replication on for an environment whose key was
    # made single-Region would destroy the key that wraps its organisation keys (app) or
    # encrypts its database and buckets (data). Its type is therefore only set when the key is
    # made; an existing single-Region key stays, and aws_kms_key.multi_region is added beside it
    # (tests/migration.tftest.hcl fails on a plan that replaces a key).
    ignore_changes = [multi_region]
  }
}

# Beside an existing single-Region key of a replicated purpose (an environment applied before
# replication): a multi-Region primary for what the recovery region must open from now on (the
# replica buckets, the Aurora secondary, a key store re-wrapped into it). The planned
# multi_region of aws_kms_key.this is the key's own when it exists (ignore_changes), the
# configuration's when it is made, so a new environment gets no key beside its own.
resource "aws_kms_key" "multi_region" {
  for_each = toset([for p in var.replicated_purposes : p if !aws_kms_key.this[p].multi_region])

  description             = "${var.name} ${each.key} (multi-Region, beside the single-Region key)"
  multi_region            = true
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_in_days
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key[each.key].json
  tags                    = merge(var.tags, { "mhp:key-purpose" = each.key, "mhp:beside" = aws_kms_key.this[each.key].key_id })
}

resource "aws_kms_alias" "multi_region" {
  for_each = aws_kms_key.multi_region

  name          = "alias/${var.name}-${each.key}-multi-region"
  target_key_id = each.value.key_id
}

locals {
  # The multi-Region primary of each replicated purpose: the key itself when it was made
  # multi-Region, else the one beside it.
  multi_region_primaries = {
    for p in var.replicated_purposes : p => contains(keys(aws_kms_key.multi_region), p) ? aws_kms_key.multi_region[p] : aws_kms_key.this[p]
  }
}

# Replicas in the recovery region (aws.replica): the same key material and key id, so a
# ciphertext made with the primary (an organisation key wrapped by the app key, an object
# encrypted with the data key) decrypts there with the primary's region down.
resource "aws_kms_replica_key" "this" {
  for_each = toset(var.replicated_purposes)
  provider = aws.replica

  description             = "${var.name} ${each.key} (replica)"
  primary_key_arn         = local.multi_region_primaries[each.key].arn
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key[each.key].json
  tags                    = merge(var.tags, { "mhp:key-purpose" = each.key, "mhp:replica-of" = local.multi_region_primaries[each.key].key_id })

  lifecycle {
    precondition {
      condition     = local.multi_region_primaries[each.key].multi_region
      error_message = "Only a multi-Region key has replicas: the ${each.key} primary of the replica must be multi-Region."
    }
  }
}

resource "aws_kms_alias" "replica" {
  for_each = toset(var.replicated_purposes)
  provider = aws.replica

  name          = "alias/${var.name}-${each.key}"
  target_key_id = aws_kms_replica_key.this[each.key].key_id
}

resource "aws_kms_alias" "this" {
  for_each = local.purposes

  name          = "alias/${var.name}-${each.key}"
  target_key_id = aws_kms_key.this[each.key].key_id
}
