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

mock_provider "aws" {
  alias           = "replica"
  override_during = plan
}

variables {
  name = "mhp-test"
}

run "every_key_rotates_and_waits_before_deletion" {
  command = plan

  assert {
    condition     = length(aws_kms_key.this) == 5
    error_message = "one key per purpose: data, logs, search, secrets, app"
  }
  assert {
    condition     = alltrue([for k in aws_kms_key.this : k.enable_key_rotation])
    error_message = "every key must rotate automatically"
  }
  assert {
    condition     = alltrue([for k in aws_kms_key.this : k.deletion_window_in_days == 30])
    error_message = "keys wait 30 days before deletion by default"
  }
}

run "deletion_window_is_bounded" {
  command = plan
  variables {
    deletion_window_in_days = 3
  }
  expect_failures = [var.deletion_window_in_days]
}

# Apply-time (deploy/README.md, "Apply-time checks"): the mock returns a fixed JSON policy, so
# these runs read the statements the policy documents are built from.

run "data_key_lets_auto_scaling_launch_encrypted_hosts" {
  command = plan

  # EC2 Auto Scaling's service-linked role uses the key for the ECS hosts' EBS volumes ...
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["data"].statement :
      s.effect != "Deny"
      && toset(s.actions) == toset(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"])
      && anytrue([for c in s.condition : c.variable == "aws:PrincipalArn" && contains(c.values, "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")])
    ])
    error_message = "the data key lets AWSServiceRoleForAutoScaling encrypt, decrypt, re-encrypt, generate data keys and describe the key (EBS volumes of the ECS hosts)"
  }
  # ... and attaches them through grants for AWS resources only.
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["data"].statement :
      s.effect != "Deny"
      && toset(s.actions) == toset(["kms:CreateGrant"])
      && anytrue([for c in s.condition : c.variable == "aws:PrincipalArn" && contains(c.values, "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")])
      && anytrue([for c in s.condition : c.variable == "kms:GrantIsForAWSResource" && c.test == "Bool" && toset(c.values) == toset(["true"])])
    ])
    error_message = "the data key lets AWSServiceRoleForAutoScaling create grants, only for AWS resources (kms:GrantIsForAWSResource)"
  }
  # The wildcard principals are pinned to the one role of this account.
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.key["data"].statement :
      alltrue([for p in s.principals : !contains(p.identifiers, "*") || (
        anytrue([for c in s.condition : c.variable == "aws:PrincipalArn" && length(c.values) == 1])
        && anytrue([for c in s.condition : c.variable == "kms:CallerAccount" && toset(c.values) == toset(["123456789012"])])
      )])
    ])
    error_message = "a wildcard principal in a key policy is always pinned by aws:PrincipalArn and kms:CallerAccount"
  }
  assert {
    condition = alltrue([for k in ["logs", "search", "secrets", "app"] :
      !anytrue([for s in data.aws_iam_policy_document.key[k].statement : anytrue([for p in s.principals : contains(p.identifiers, "*")])])
    ])
    error_message = "only the data key (EBS volumes) is open to Auto Scaling's service-linked role"
  }
}

run "cloudtrail_may_use_its_keys" {
  command = plan

  # The trail's SNS topic is encrypted with the logs key: CloudTrail publishes to it.
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["logs"].statement :
      anytrue([for p in s.principals : p.type == "Service" && contains(p.identifiers, "cloudtrail.amazonaws.com")])
      && length(setsubtract(["kms:GenerateDataKey*", "kms:Decrypt"], s.actions)) == 0
      && anytrue([for c in s.condition : c.variable == "aws:SourceArn" && toset(c.values) == toset(["arn:aws:cloudtrail:*:123456789012:trail/*"])])
      && anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && toset(c.values) == toset(["123456789012"])])
    ])
    error_message = "the logs key lets CloudTrail (this account's trails) generate data keys and decrypt for its encrypted SNS topic"
  }
  # The trail's log files are encrypted with the data key.
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["data"].statement :
      anytrue([for p in s.principals : contains(p.identifiers, "cloudtrail.amazonaws.com")])
      && contains(s.actions, "kms:GenerateDataKey*")
      && anytrue([for c in s.condition : c.variable == "kms:EncryptionContext:aws:cloudtrail:arn" && toset(c.values) == toset(["arn:aws:cloudtrail:*:123456789012:trail/*"])])
    ])
    error_message = "the data key lets CloudTrail encrypt log files (encryption context of this account's trails)"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["data"].statement :
      anytrue([for p in s.principals : contains(p.identifiers, "cloudtrail.amazonaws.com")])
      && length(setsubtract(["kms:DescribeKey", "kms:Decrypt"], s.actions)) == 0
      && anytrue([for c in s.condition : c.variable == "aws:SourceArn" && toset(c.values) == toset(["arn:aws:cloudtrail:*:123456789012:trail/*"])])
    ])
    error_message = "the data key lets this account's trails describe it and decrypt (CreateTrail checks the key; the audit-trail bucket uses an S3 Bucket Key)"
  }
  # Config delivers its snapshots and history encrypted with the data key.
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["data"].statement :
      anytrue([for p in s.principals : contains(p.identifiers, "config.amazonaws.com")])
      && length(setsubtract(["kms:GenerateDataKey*", "kms:Decrypt"], s.actions)) == 0
    ])
    error_message = "the data key lets AWS Config encrypt its deliveries"
  }
}

# E-mail (modules/mail): SES publishes bounce and complaint events to the alarm topic, which is
# encrypted with the logs key.
run "ses_may_publish_to_the_encrypted_alarm_topic" {
  command = plan

  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.key["logs"].statement :
      s.sid == "AlarmAndFindingTopics"
      && anytrue([for p in s.principals : contains(p.identifiers, "ses.amazonaws.com")])
      && toset(s.actions) == toset(["kms:Decrypt", "kms:GenerateDataKey*"])
      && anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && toset(c.values) == toset(["123456789012"])])
    ])
    error_message = "the logs key lets this account's SES publish to the encrypted alarm topic, and nothing more"
  }
  assert {
    condition = !anytrue([for k in ["data", "search", "secrets", "app"] : anytrue([for s in data.aws_iam_policy_document.key[k].statement :
      anytrue([for p in s.principals : contains(p.identifiers, "ses.amazonaws.com")])
    ])])
    error_message = "no other key names SES"
  }
}
