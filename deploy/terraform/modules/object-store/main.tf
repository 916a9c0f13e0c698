# MHP's buckets:
#   data          raw signals and model artifacts (object_store.bucket)
#   backups       MHP's backups of the system of record and its objects (backup.to)
#   key-backups   MHP's backups of the key store (backup.keys_to), apart from the data they open
#   audit-exports audit-log exports under S3 object lock (COMPLIANCE in production)
#   logs          S3 server access logs and load-balancer access logs (the ALB's under alb/, the
#                 Wazuh manager's NLB under nlb/; SSE-S3: the only
#                 encryption AWS log delivery accepts), expiring after log_retention_days
#
# data, backups and key-backups only with data_buckets: a recovery environment (modules/platform
# recovery_of) makes none, its tasks using the replicas its source keeps in its region
# (replication.tf); audit-exports and logs it has, as every environment.

data "aws_caller_identity" "current" {}
data "aws_elb_service_account" "current" {}

locals {
  prefix = "${var.name}-${data.aws_caller_identity.current.account_id}"
}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "LoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${local.prefix}-logs/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }
  statement {
    # Network load balancers (the Wazuh manager's, modules/wazuh) deliver through CloudWatch
    # Logs' delivery service, not the ELB account.
    sid       = "NetworkLoadBalancerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${local.prefix}-logs/nlb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
  statement {
    sid       = "NetworkLoadBalancerAccessLogsAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = ["arn:aws:s3:::${local.prefix}-logs"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:aws:s3:::${local.prefix}-logs/s3/*"]
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

module "logs" {
  source = "../s3-bucket"

  name              = "${local.prefix}-logs"
  kms_key_arn       = null
  access_logging    = false
  expiration_days   = var.log_retention_days
  force_destroy     = var.force_destroy
  extra_policy_json = data.aws_iam_policy_document.log_delivery.json
  tags              = var.tags
}

# The data, backups and key-backups buckets became optional (data_buckets): the environments
# applied before keep theirs.
moved {
  from = module.data
  to   = module.data[0]
}

moved {
  from = module.backups
  to   = module.backups[0]
}

moved {
  from = module.key_backups
  to   = module.key_backups[0]
}

module "data" {
  source = "../s3-bucket"
  count  = var.data_buckets ? 1 : 0

  name              = "${local.prefix}-data"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = module.logs.id
  force_destroy     = var.force_destroy
  tags              = merge(var.tags, { "mhp:backup" = "true" })
}

module "audit_exports" {
  source = "../s3-bucket"

  name              = "${local.prefix}-audit-exports"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = module.logs.id
  object_lock_mode  = var.audit_lock_mode
  object_lock_days  = var.audit_lock_days
  force_destroy     = var.force_destroy
  tags              = merge(var.tags, { "mhp:backup" = "true" })
}

# MHP's own backups (`mhp backup`, taken on backup.schedule): versioned, so that a pruned or
# overwritten backup stays recoverable for noncurrent_version_days; MHP's retention
# (backup.daily/weekly/monthly) decides what is current.
module "backups" {
  source = "../s3-bucket"
  count  = var.data_buckets ? 1 : 0

  name              = "${local.prefix}-backups"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = module.logs.id
  force_destroy     = var.force_destroy
  tags              = var.tags
}

module "key_backups" {
  source = "../s3-bucket"
  count  = var.data_buckets ? 1 : 0

  name              = "${local.prefix}-key-backups"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = module.logs.id
  force_destroy     = var.force_destroy
  tags              = var.tags
}
