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
}

variables {
  name                      = "mhp-test-docs"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-a", "subnet-b", "subnet-c"]
  client_security_group_ids = { app = "sg-app" }
  client_role_arns          = ["arn:aws:iam::123456789012:role/mhp-test-app"]
  master_role_arn           = "arn:aws:iam::123456789012:role/mhp-test-opensearch-admin"
  kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/search"
  logs_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/logs"
}

run "private_encrypted_fine_grained" {
  command = plan

  assert {
    condition     = length(aws_opensearch_domain.this.vpc_options) == 1 && length(aws_opensearch_domain.this.vpc_options[0].subnet_ids) == 3
    error_message = "the domain lives in the VPC (no public endpoint)"
  }
  assert {
    condition     = aws_opensearch_domain.this.encrypt_at_rest[0].enabled && aws_opensearch_domain.this.encrypt_at_rest[0].kms_key_id == var.kms_key_arn
    error_message = "encrypted at rest with the customer key"
  }
  assert {
    condition     = aws_opensearch_domain.this.node_to_node_encryption[0].enabled && aws_opensearch_domain.this.domain_endpoint_options[0].enforce_https
    error_message = "encrypted in transit"
  }
  assert {
    condition     = aws_opensearch_domain.this.advanced_security_options[0].enabled && !aws_opensearch_domain.this.advanced_security_options[0].internal_user_database_enabled
    error_message = "fine-grained access control with IAM, no internal users"
  }
  assert {
    condition     = aws_opensearch_domain.this.cluster_config[0].zone_awareness_enabled && aws_opensearch_domain.this.cluster_config[0].zone_awareness_config[0].availability_zone_count == 3
    error_message = "multi-AZ"
  }
  assert {
    condition     = length(aws_cloudwatch_log_group.this) == 4 && alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == var.logs_kms_key_arn])
    error_message = "audit, slow and error logs go to encrypted log groups"
  }
}

run "two_zone_region" {
  command = plan
  variables {
    subnet_ids     = ["subnet-a", "subnet-c"]
    instance_count = 2
  }
  assert {
    condition     = aws_opensearch_domain.this.cluster_config[0].zone_awareness_config[0].availability_zone_count == 2
    error_message = "us-west-1 has two zones"
  }
}

# Apply-time (deploy/README.md, "Apply-time checks"): AWS refuses a zone-aware domain whose data
# nodes do not divide over its zones; the mock does not.

run "data_nodes_divide_over_the_zones" {
  command = plan
  assert {
    condition     = output.nodes.data_nodes % output.nodes.zones == 0 && output.nodes.zones == output.nodes.subnets
    error_message = "data nodes divide evenly over the zones, one subnet per zone"
  }
  assert {
    condition     = output.nodes.masters == 3
    error_message = "dedicated masters are three"
  }
}

run "two_data_nodes_over_three_zones_are_refused" {
  command = plan
  variables {
    instance_count   = 2
    dedicated_master = false
  }
  expect_failures = [var.instance_count]
}

run "four_zones_are_refused" {
  command = plan
  variables {
    subnet_ids     = ["subnet-a", "subnet-b", "subnet-c", "subnet-d"]
    instance_count = 4
  }
  expect_failures = [var.subnet_ids]
}
