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
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name                   = "mhp-test"
  kms_key_arn            = "arn:aws:kms:us-east-1:123456789012:key/data"
  logs_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/logs"
  access_log_bucket      = "mhp-test-123456789012-logs"
  data_event_bucket_arns = ["arn:aws:s3:::mhp-test-123456789012-data"]
}

run "auditor_controls_are_on" {
  command = plan

  assert {
    condition = toset(output.security_hub_standards) == toset([
      "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0",
      "arn:aws:securityhub:us-east-1::standards/nist-800-53/v/5.0.0",
      "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/3.0.0",
    ])
    error_message = "Security Hub runs AWS FSBP, NIST 800-53 rev. 5 and CIS AWS Foundations v3.0.0"
  }
  assert {
    condition     = strcontains(aws_config_conformance_pack.hipaa.template_body, "RDS_STORAGE_ENCRYPTED") && strcontains(aws_config_conformance_pack.hipaa.name, "hipaa")
    error_message = "a HIPAA conformance pack is deployed"
  }
  assert {
    condition     = aws_guardduty_detector.this.enable && aws_guardduty_detector_feature.runtime.status == "ENABLED"
    error_message = "GuardDuty with runtime monitoring"
  }
  assert {
    condition     = aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.enable_log_file_validation && aws_cloudtrail.this.kms_key_id == var.kms_key_arn
    error_message = "a multi-region, validated, encrypted trail"
  }
  assert {
    condition     = aws_config_configuration_recorder.this.recording_group[0].all_supported
    error_message = "Config records every supported resource"
  }
}

run "aws_hipaa_pack_when_uploaded" {
  command = plan
  variables {
    hipaa_pack_template_s3_uri = "s3://mhp-test-123456789012-audit-trail/conformance-packs/Operational-Best-Practices-for-HIPAA-Security.yaml"
  }
  assert {
    condition     = aws_config_conformance_pack.hipaa.template_body == null
    error_message = "the AWS pack replaces MHP's subset"
  }
}

# Apply-time (deploy/README.md, "Apply-time checks"): CreateTrail and PutDeliveryChannel check
# these rights against real AWS; the mock returns a fixed JSON policy, so the runs read the
# statements the policy documents are built from.

run "cloudtrail_may_publish_to_its_topic" {
  command = plan

  override_resource {
    target          = aws_sns_topic.trail
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:mhp-test-cloudtrail" }
  }

  assert {
    condition     = aws_cloudtrail.this.sns_topic_name == aws_sns_topic.trail.name && aws_sns_topic.trail.kms_master_key_id == var.logs_kms_key_arn
    error_message = "the trail notifies its own topic, encrypted with the logs key (whose policy lets CloudTrail use it: modules/kms)"
  }
  assert {
    condition     = aws_sns_topic_policy.trail.arn == aws_sns_topic.trail.arn
    error_message = "the trail's topic has a topic policy of its own"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.trail_topic.statement :
      s.effect != "Deny"
      && contains([for a in s.actions : lower(a)], "sns:publish")
      && toset(s.resources) == toset([aws_sns_topic.trail.arn])
      && anytrue([for p in s.principals : p.type == "Service" && toset(p.identifiers) == toset(["cloudtrail.amazonaws.com"])])
      && anytrue([for c in s.condition : c.variable == "aws:SourceArn" && toset(c.values) == toset(["arn:aws:cloudtrail:us-east-1:123456789012:trail/${aws_cloudtrail.this.name}"])])
    ])
    error_message = "the topic policy lets cloudtrail.amazonaws.com publish, for this trail only (aws:SourceArn)"
  }
}

run "config_role_may_deliver" {
  command = plan

  override_resource {
    target          = aws_iam_role.config
    override_during = plan
    values          = { id = "mhp-test-config", arn = "arn:aws:iam::123456789012:role/mhp-test-config" }
  }
  override_resource {
    target          = module.trail_bucket.aws_s3_bucket.this
    override_during = plan
    values          = { id = "mhp-test-123456789012-audit-trail", bucket = "mhp-test-123456789012-audit-trail", arn = "arn:aws:s3:::mhp-test-123456789012-audit-trail" }
  }

  assert {
    condition     = aws_iam_role_policy.config_delivery.role == aws_iam_role.config.id && aws_config_configuration_recorder.this.role_arn == aws_iam_role.config.arn
    error_message = "the delivery rights belong to the role the recorder uses"
  }
  assert {
    condition     = aws_config_delivery_channel.this.s3_bucket_name == module.trail_bucket.id && aws_config_delivery_channel.this.s3_kms_key_arn == var.kms_key_arn
    error_message = "Config delivers to the audit-trail bucket, encrypted with the data key"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.config_delivery.statement :
      s.effect != "Deny"
      && contains(s.actions, "s3:PutObject")
      && toset(s.resources) == toset(["${module.trail_bucket.arn}/AWSLogs/123456789012/Config/*"])
      && anytrue([for c in s.condition : c.variable == "s3:x-amz-acl" && toset(c.values) == toset(["bucket-owner-full-control"])])
    ])
    error_message = "the Config role may put objects under AWSLogs/<account>/Config/ of the audit-trail bucket, with bucket-owner-full-control"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.config_delivery.statement :
      s.effect != "Deny" && contains(s.actions, "s3:GetBucketAcl") && toset(s.resources) == toset([module.trail_bucket.arn])
    ])
    error_message = "the Config role may read the audit-trail bucket's ACL"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.config_delivery.statement :
      s.effect != "Deny"
      && length(setsubtract(["kms:GenerateDataKey", "kms:Decrypt"], s.actions)) == 0
      && toset(s.resources) == toset([var.kms_key_arn])
    ])
    error_message = "the Config role may generate data keys with and decrypt by the data key (the bucket's and the delivery channel's key)"
  }
}

# Detection that receives data (deploy/README.md): runtime monitoring on both kinds of compute,
# and the uploads scanned for malware.

run "runtime_monitoring_covers_fargate_tasks_and_ec2_hosts" {
  command = plan

  assert {
    condition = toset([for c in aws_guardduty_detector_feature.runtime.additional_configuration : c.name if c.status == "ENABLED"]) == toset([
      "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT",
    ])
    error_message = "GuardDuty manages its runtime agent on the Fargate tasks and on the EC2 container instances"
  }
  assert {
    condition     = length(aws_guardduty_malware_protection_plan.data) == 0 && length(aws_iam_role.malware_protection) == 0
    error_message = "no Malware Protection plan (nor its role) without a bucket"
  }
}

run "uploads_are_scanned_for_malware" {
  command = plan
  variables {
    malware_protection_bucket = "mhp-test-123456789012-data"
    permissions_boundary_arn  = "arn:aws:iam::123456789012:policy/mhp-test-boundary"
  }
  override_resource {
    target          = aws_iam_role.malware_protection
    override_during = plan
    values          = { id = "mhp-test-guardduty-malware-s3", arn = "arn:aws:iam::123456789012:role/mhp-test-guardduty-malware-s3" }
  }

  assert {
    condition     = one(one(aws_guardduty_malware_protection_plan.data[0].protected_resource).s3_bucket).bucket_name == "mhp-test-123456789012-data"
    error_message = "GuardDuty Malware Protection for S3 protects the data bucket"
  }
  assert {
    condition     = one(one(aws_guardduty_malware_protection_plan.data[0].actions).tagging).status == "ENABLED"
    error_message = "scan results are tagged on the objects"
  }
  assert {
    condition     = aws_guardduty_malware_protection_plan.data[0].role == aws_iam_role.malware_protection[0].arn && aws_iam_role.malware_protection[0].permissions_boundary == var.permissions_boundary_arn
    error_message = "the plan's role carries the permissions boundary"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.malware_protection.statement :
      contains(s.actions, "s3:GetObject") && contains(s.actions, "s3:PutObjectTagging")
      && toset(s.resources) == toset(["arn:aws:s3:::mhp-test-123456789012-data/*"])
    ])
    error_message = "the role may read and tag the data bucket's objects, and no other bucket's"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.malware_protection.statement :
      contains(s.actions, "kms:Decrypt") && toset(s.resources) == toset([var.kms_key_arn])
    ])
    error_message = "the role may decrypt with the data key (the bucket's SSE-KMS key)"
  }
}
