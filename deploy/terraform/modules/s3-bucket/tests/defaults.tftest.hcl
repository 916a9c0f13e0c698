mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mhp-test-data" }
  }
}

run "private_versioned_kms_encrypted" {
  command = plan
  variables {
    name              = "mhp-test-data"
    kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    access_log_bucket = "mhp-test-logs"
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "all public access must be blocked"
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "versioning must be on"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : one(r.apply_server_side_encryption_by_default).sse_algorithm]) == "aws:kms"
    error_message = "a bucket given a key must use SSE-KMS"
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 1
    error_message = "access logging must be on when a log bucket is given"
  }
  assert {
    condition     = !aws_s3_bucket.this.force_destroy && !aws_s3_bucket.this.object_lock_enabled
    error_message = "no force_destroy and no object lock unless asked"
  }
}

run "audit_exports_are_locked_in_compliance_mode" {
  command = plan
  variables {
    name             = "mhp-test-audit"
    kms_key_arn      = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    object_lock_mode = "COMPLIANCE"
    object_lock_days = 2190
    access_logging   = false
  }

  assert {
    condition     = aws_s3_bucket.this.object_lock_enabled
    error_message = "object lock must be enabled on the bucket"
  }
  assert {
    condition     = aws_s3_bucket_object_lock_configuration.this[0].rule[0].default_retention[0].mode == "COMPLIANCE"
    error_message = "audit exports must be locked in COMPLIANCE mode"
  }
}

run "lock_mode_is_validated" {
  command = plan
  variables {
    name             = "mhp-test-audit"
    kms_key_arn      = null
    object_lock_mode = "SOMETIMES"
    access_logging   = false
  }
  expect_failures = [var.object_lock_mode]
}
