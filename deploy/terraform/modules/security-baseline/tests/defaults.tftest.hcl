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
    ])
    error_message = "Security Hub runs AWS FSBP and NIST 800-53 rev. 5"
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
