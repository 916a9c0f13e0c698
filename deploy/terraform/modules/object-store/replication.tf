# Cross-region replication (issue 21, cross-region RPO): the data bucket and MHP's two backup
# buckets are replicated to buckets of the same names plus "-replica" in the recovery region
# (aws.replica, the environment's copy region), encrypted there with the replica of the data key
# (a multi-Region key: the same key material). S3 Replication Time Control replicates 99.99% of
# objects within 15 minutes and raises replication metrics and events past 15 minutes. Delete
# markers are replicated, so that `mhp backup prune` prunes the replicas too; the replica buckets
# are versioned and keep deleted or overwritten versions for noncurrent_version_days, as the
# sources do. Audit exports are not replicated (object lock; AWS Backup copies them).

data "aws_region" "current" {}

data "aws_region" "replica" {
  provider = aws.replica
}

locals {
  replicated = var.replication ? {
    data          = module.data[0]
    backups       = module.backups[0]
    "key-backups" = module.key_backups[0]
  } : {}
  # The one rule of each replicated bucket; its id is the RuleId dimension of the replication
  # metrics (output replication_rules, alarmed by modules/observability).
  replication_rule_id = "recovery-region"
  # Bucket ARNs from the names (known at plan time, as the log bucket's in main.tf).
  source_arns  = [for k in keys(local.replicated) : "arn:aws:s3:::${local.prefix}-${k}"]
  replica_arns = [for k in keys(local.replicated) : "arn:aws:s3:::${local.prefix}-${k}-replica"]
}

data "aws_iam_policy_document" "replica_log_delivery" {
  count = var.replication ? 1 : 0

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${local.prefix}-replica-logs/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

module "replica_logs" {
  source    = "../s3-bucket"
  count     = var.replication ? 1 : 0
  providers = { aws = aws.replica }

  name              = "${local.prefix}-replica-logs"
  kms_key_arn       = null
  access_logging    = false
  expiration_days   = var.log_retention_days
  force_destroy     = var.force_destroy
  extra_policy_json = data.aws_iam_policy_document.replica_log_delivery[0].json
  tags              = var.tags
}

module "replica" {
  source    = "../s3-bucket"
  for_each  = local.replicated
  providers = { aws = aws.replica }

  name              = "${local.prefix}-${each.key}-replica"
  kms_key_arn       = var.replica_kms_key_arn
  access_log_bucket = module.replica_logs[0].id
  force_destroy     = var.force_destroy
  tags              = merge(var.tags, { "mhp:replica-of" = "${local.prefix}-${each.key}" })
}

data "aws_iam_policy_document" "replication_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "replication" {
  count = var.replication ? 1 : 0

  name                 = "${var.name}-s3-replication"
  description          = "S3 replication of the data and backup buckets to the recovery region"
  assume_role_policy   = data.aws_iam_policy_document.replication_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# Least privilege: read the three source buckets' replication configuration and object
# versions, write replicas into the three replica buckets only, decrypt with the data key only
# through S3 in this region, encrypt with its replica only through S3 in the recovery region.
data "aws_iam_policy_document" "replication" {
  count = var.replication ? 1 : 0

  statement {
    sid       = "ReadSourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = local.source_arns
  }
  statement {
    sid       = "ReadSourceVersions"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
    resources = [for a in local.source_arns : "${a}/*"]
  }
  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = [for a in local.replica_arns : "${a}/*"]
  }
  statement {
    sid       = "DecryptSources"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
  statement {
    sid       = "EncryptReplicas"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.replica_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.replica.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "replication" {
  count = var.replication ? 1 : 0

  name   = "replicate"
  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication[0].json
}

resource "aws_s3_bucket_replication_configuration" "this" {
  for_each = local.replicated

  bucket = each.value.id
  role   = aws_iam_role.replication[0].arn

  # Replication Time Control and replication metrics on the rule: S3 then publishes
  # ReplicationLatency, OperationsPendingReplication, OperationsFailedReplication (AWS/S3,
  # dimensions SourceBucket, DestinationBucket, RuleId) in this region, and an
  # OperationMissedThreshold event past 15 minutes.
  rule {
    id     = local.replication_rule_id
    status = "Enabled"
    filter {}

    delete_marker_replication {
      status = "Enabled"
    }
    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }
    destination {
      bucket        = module.replica[each.key].arn
      storage_class = "STANDARD"
      encryption_configuration {
        replica_kms_key_id = var.replica_kms_key_arn
      }
      replication_time {
        status = "Enabled"
        time {
          minutes = 15
        }
      }
      metrics {
        status = "Enabled"
        event_threshold {
          minutes = 15
        }
      }
    }
  }

  depends_on = [aws_iam_role_policy.replication]
}
