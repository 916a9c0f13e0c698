# The account-and-region controls an auditor looks for first. Each environment has its own AWS
# account (see deploy/README.md), so this module runs once per environment root:
#   - CloudTrail: multi-region trail, log-file validation, KMS, delivered to S3 and CloudWatch Logs
#   - AWS Config: recorder of all resources, delivery to S3, and a HIPAA conformance pack
#     (Security Hub has no HIPAA or SOC 2 standard of its own)
#   - Security Hub with AWS Foundational Security Best Practices, NIST SP 800-53 rev. 5 and the
#     CIS AWS Foundations Benchmark v3.0.0
#   - GuardDuty with S3, RDS login, EBS malware, runtime monitoring of the ECS Fargate tasks and
#     the EC2 hosts (GuardDuty manages both agents), and Malware Protection for S3 on the data
#     bucket (uploads scanned and tagged)
#   - IAM Access Analyzer

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account     = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  bucket_name = "${var.name}-${local.account}-audit-trail"
  trail_name  = "${var.name}-trail"
  trail_arn   = "arn:${local.partition}:cloudtrail:${local.region}:${local.account}:trail/${local.trail_name}"
}

# --- Audit-trail bucket (CloudTrail and Config deliveries) ---------------------------------------

data "aws_iam_policy_document" "trail_bucket" {
  statement {
    sid       = "CloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = ["arn:${local.partition}:s3:::${local.bucket_name}"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
  statement {
    sid       = "CloudTrailAndConfigWrite"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.bucket_name}/AWSLogs/${local.account}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

module "trail_bucket" {
  source = "../s3-bucket"

  name              = local.bucket_name
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = var.access_log_bucket
  object_lock_mode  = var.trail_lock_mode
  object_lock_days  = var.trail_retention_days
  expiration_days   = var.trail_retention_days + 1
  force_destroy     = var.force_destroy
  extra_policy_json = data.aws_iam_policy_document.trail_bucket.json
  tags              = var.tags
}

# --- CloudTrail ---------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/mhp/${var.name}/cloudtrail"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "trail_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "trail" {
  name                 = "${var.name}-cloudtrail-logs"
  assume_role_policy   = data.aws_iam_policy_document.trail_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "trail_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail.arn}:*"]
  }
}

resource "aws_iam_role_policy" "trail" {
  name   = "write-trail-logs"
  role   = aws_iam_role.trail.id
  policy = data.aws_iam_policy_document.trail_logs.json
}

resource "aws_sns_topic" "trail" {
  name              = "${var.name}-cloudtrail"
  kms_master_key_id = var.logs_kms_key_arn
  tags              = var.tags
}

# CloudTrail publishes a notification per delivered log file; CreateTrail refuses a topic whose
# policy does not let this trail publish (InsufficientSnsTopicPolicyException). The topic's key
# (logs) lets CloudTrail generate data keys (modules/kms).
data "aws_iam_policy_document" "trail_topic" {
  statement {
    sid       = "CloudTrailPublishes"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.trail.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_sns_topic_policy" "trail" {
  arn    = aws_sns_topic.trail.arn
  policy = data.aws_iam_policy_document.trail_topic.json
}

resource "aws_cloudtrail" "this" {
  name                          = local.trail_name
  s3_bucket_name                = module.trail_bucket.id
  kms_key_id                    = var.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail.arn
  sns_topic_name                = aws_sns_topic.trail.name
  tags                          = var.tags

  # Data events on the PHI buckets: who read or wrote which object.
  event_selector {
    read_write_type           = "All"
    include_management_events = true
    data_resource {
      type   = "AWS::S3::Object"
      values = [for b in var.data_event_bucket_arns : "${b}/"]
    }
  }

  # The bucket and topic policies must exist first: CreateTrail checks both.
  depends_on = [module.trail_bucket, aws_sns_topic_policy.trail]
}

# --- AWS Config ---------------------------------------------------------------------------------

data "aws_iam_policy_document" "config_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "config" {
  name                 = "${var.name}-config"
  assume_role_policy   = data.aws_iam_policy_document.config_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "config" {
  role       = aws_iam_role.config.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

# AWS_ConfigRole only reads the resources Config records: delivering snapshots and history
# into the audit-trail bucket, encrypted with the data key, is the role's own right (AWS:
# "Permissions for the Amazon S3 bucket" and "... for the KMS key" of an AWS Config role).
data "aws_iam_policy_document" "config_delivery" {
  statement {
    sid       = "DeliverToAuditTrailBucket"
    actions   = ["s3:PutObject"]
    resources = ["${module.trail_bucket.arn}/AWSLogs/${local.account}/Config/*"]
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
  statement {
    sid       = "CheckAuditTrailBucketAcl"
    actions   = ["s3:GetBucketAcl"]
    resources = [module.trail_bucket.arn]
  }
  statement {
    sid       = "EncryptDeliveries"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "config_delivery" {
  name   = "deliver-to-audit-trail-bucket"
  role   = aws_iam_role.config.id
  policy = data.aws_iam_policy_document.config_delivery.json
}

resource "aws_config_configuration_recorder" "this" {
  name     = var.name
  role_arn = aws_iam_role.config.arn
  recording_group {
    all_supported                 = true
    include_global_resource_types = var.record_global_resources
  }
}

resource "aws_config_delivery_channel" "this" {
  name           = var.name
  s3_bucket_name = module.trail_bucket.id
  s3_kms_key_arn = var.kms_key_arn
  snapshot_delivery_properties {
    delivery_frequency = "TwentyFour_Hours"
  }
  # PutDeliveryChannel checks that the role can write to the bucket.
  depends_on = [aws_config_configuration_recorder.this, aws_iam_role_policy.config_delivery]
}

resource "aws_config_configuration_recorder_status" "this" {
  name       = aws_config_configuration_recorder.this.name
  is_enabled = true
  depends_on = [aws_config_delivery_channel.this]
}

# HIPAA: AWS publishes the full "Operational Best Practices for HIPAA Security" sample pack; the
# first-deployment runbook copies it into the audit-trail bucket and sets hipaa_pack_template_s3_uri.
# Until then a pack of our own with the managed rules behind the §164.312 technical safeguards
# that MHP's deployment must keep true is deployed.
locals {
  hipaa_rules = {
    # §164.312(a)(2)(iv), (e)(2)(ii): encryption at rest and in transit
    "rds-storage-encrypted"               = "RDS_STORAGE_ENCRYPTED"
    "s3-default-encryption-kms"           = "S3_DEFAULT_ENCRYPTION_KMS"
    "s3-bucket-ssl-requests-only"         = "S3_BUCKET_SSL_REQUESTS_ONLY"
    "encrypted-volumes"                   = "ENCRYPTED_VOLUMES"
    "cloudwatch-log-group-encrypted"      = "CLOUDWATCH_LOG_GROUP_ENCRYPTED"
    "opensearch-encrypted-at-rest"        = "OPENSEARCH_ENCRYPTED_AT_REST"
    "opensearch-node-to-node-encryption"  = "OPENSEARCH_NODE_TO_NODE_ENCRYPTION_CHECK"
    "alb-http-to-https-redirection-check" = "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK"
    "cmk-backing-key-rotation-enabled"    = "CMK_BACKING_KEY_ROTATION_ENABLED"
    # §164.312(a)(1), (d): access control, authentication
    "rds-instance-public-access-check" = "RDS_INSTANCE_PUBLIC_ACCESS_CHECK"
    "opensearch-in-vpc-only"           = "OPENSEARCH_IN_VPC_ONLY"
    "s3-bucket-level-public-access"    = "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED"
    "iam-root-access-key-check"        = "IAM_ROOT_ACCESS_KEY_CHECK"
    "root-account-mfa-enabled"         = "ROOT_ACCOUNT_MFA_ENABLED"
    "mfa-enabled-for-iam-console"      = "MFA_ENABLED_FOR_IAM_CONSOLE_ACCESS"
    "iam-no-inline-policy-check"       = "IAM_NO_INLINE_POLICY_CHECK"
    # §164.312(b): audit controls
    "cloudtrail-enabled"              = "CLOUD_TRAIL_ENABLED"
    "cloud-trail-log-file-validation" = "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED"
    "vpc-flow-logs-enabled"           = "VPC_FLOW_LOGS_ENABLED"
    "guardduty-enabled-centralized"   = "GUARDDUTY_ENABLED_CENTRALIZED"
    "securityhub-enabled"             = "SECURITYHUB_ENABLED"
    # §164.308(a)(7): contingency plan
    "rds-in-backup-plan"           = "RDS_IN_BACKUP_PLAN"
    "db-instance-backup-enabled"   = "DB_INSTANCE_BACKUP_ENABLED"
    "s3-bucket-versioning-enabled" = "S3_BUCKET_VERSIONING_ENABLED"
    "rds-multi-az-support"         = "RDS_MULTI_AZ_SUPPORT"
  }
  hipaa_template = yamlencode({
    Resources = { for k, v in local.hipaa_rules : replace(title(replace(k, "-", " ")), " ", "") => {
      Type = "AWS::Config::ConfigRule"
      Properties = {
        ConfigRuleName = k
        Source         = { Owner = "AWS", SourceIdentifier = v }
      }
    } }
  })
}

resource "aws_config_conformance_pack" "hipaa" {
  name            = "${var.name}-hipaa-security"
  template_body   = var.hipaa_pack_template_s3_uri == null ? local.hipaa_template : null
  template_s3_uri = var.hipaa_pack_template_s3_uri
  depends_on      = [aws_config_configuration_recorder_status.this]
}

# --- Security Hub, GuardDuty, Access Analyzer ---------------------------------------------------

resource "aws_securityhub_account" "this" {
  enable_default_standards  = false
  control_finding_generator = "SECURITY_CONTROL"
  auto_enable_controls      = true
}

resource "aws_securityhub_standards_subscription" "this" {
  for_each = toset([
    "arn:${local.partition}:securityhub:${local.region}::standards/aws-foundational-security-best-practices/v/1.0.0",
    "arn:${local.partition}:securityhub:${local.region}::standards/nist-800-53/v/5.0.0",
    "arn:${local.partition}:securityhub:${local.region}::standards/cis-aws-foundations-benchmark/v/3.0.0",
  ])

  standards_arn = each.value
  depends_on    = [aws_securityhub_account.this]
}

resource "aws_guardduty_detector" "this" {
  #checkov:skip=CKV2_AWS_3:Each environment is its own standalone account with its own detector here; under AWS Organizations the delegated GuardDuty administrator lives in the organization's security account, outside this repository.
  enable                       = true
  finding_publishing_frequency = "FIFTEEN_MINUTES"
  tags                         = var.tags
}

resource "aws_guardduty_detector_feature" "this" {
  for_each = toset(["S3_DATA_EVENTS", "RDS_LOGIN_EVENTS", "EBS_MALWARE_PROTECTION"])

  detector_id = aws_guardduty_detector.this.id
  name        = each.value
  status      = "ENABLED"
}

resource "aws_guardduty_detector_feature" "runtime" {
  detector_id = aws_guardduty_detector.this.id
  name        = "RUNTIME_MONITORING"
  status      = "ENABLED"
  # GuardDuty installs and updates its security agent itself: as a sidecar of the Fargate tasks
  # (the worker) and on the EC2 container instances (through SSM, which the hosts run).
  dynamic "additional_configuration" {
    for_each = ["ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"]
    content {
      name   = additional_configuration.value
      status = "ENABLED"
    }
  }
}

# --- GuardDuty Malware Protection for S3: every new object of the data bucket is scanned --------

data "aws_iam_policy_document" "malware_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["malware-protection-plan.guardduty.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "malware_protection" {
  count = var.malware_protection_bucket == null ? 0 : 1

  name                 = "${var.name}-guardduty-malware-s3"
  assume_role_policy   = data.aws_iam_policy_document.malware_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# The rights AWS documents for a Malware Protection for S3 role, on the one bucket and key: its
# EventBridge rule (managed rules named DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*), the
# bucket's notification, reading and tagging objects, and the data key to decrypt them.
data "aws_iam_policy_document" "malware_protection" {
  statement {
    sid       = "ManagedEventBridgeRule"
    actions   = ["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"]
    condition {
      test     = "StringLike"
      variable = "events:ManagedBy"
      values   = ["malware-protection-plan.guardduty.amazonaws.com"]
    }
  }
  statement {
    sid       = "ReadManagedEventBridgeRule"
    actions   = ["events:DescribeRule", "events:ListTargetsByRule"]
    resources = ["arn:${local.partition}:events:${local.region}:${local.account}:rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"]
  }
  statement {
    sid       = "BucketNotification"
    actions   = ["s3:PutBucketNotification", "s3:GetBucketNotification", "s3:GetBucketLocation", "s3:ListBucket"]
    resources = ["arn:${local.partition}:s3:::${coalesce(var.malware_protection_bucket, "-")}"]
  }
  statement {
    sid       = "ValidationObject"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${coalesce(var.malware_protection_bucket, "-")}/malware-protection-resource-validation-object"]
  }
  statement {
    sid = "ScanAndTagObjects"
    actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging", "s3:PutObjectVersionTagging"]
    resources = ["arn:${local.partition}:s3:::${coalesce(var.malware_protection_bucket, "-")}/*"]
  }
  statement {
    sid       = "DecryptObjects"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "malware_protection" {
  count = var.malware_protection_bucket == null ? 0 : 1

  name   = "scan-data-bucket"
  role   = aws_iam_role.malware_protection[0].id
  policy = data.aws_iam_policy_document.malware_protection.json
}

resource "aws_guardduty_malware_protection_plan" "data" {
  count = var.malware_protection_bucket == null ? 0 : 1

  role = aws_iam_role.malware_protection[0].arn
  tags = var.tags

  protected_resource {
    s3_bucket {
      bucket_name = var.malware_protection_bucket
    }
  }

  # Scan results as object tags (GuardDutyMalwareScanStatus): THREATS_FOUND objects can be
  # refused by a bucket policy on the tag and are reported as GuardDuty findings (modules/siem).
  actions {
    tagging {
      status = "ENABLED"
    }
  }

  depends_on = [aws_iam_role_policy.malware_protection]
}

resource "aws_accessanalyzer_analyzer" "this" {
  analyzer_name = var.name
  type          = "ACCOUNT"
  tags          = var.tags
}
