mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  name             = "mhp-test"
  logs_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "three_zones_private_tiers_flow_logs" {
  command = plan

  override_data {
    target          = data.aws_availability_zones.available
    override_during = plan
    values          = { names = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"] }
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && length(aws_subnet.data) == 3
    error_message = "three zones where the region has them"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "nothing gets a public IP by default"
  }
  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL"
    error_message = "flow logs record all traffic"
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow.kms_key_id == var.logs_kms_key_arn
    error_message = "flow logs are encrypted with the customer key"
  }
  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "the default security group has no rules"
  }
  assert {
    condition     = contains(keys(aws_vpc_endpoint.interface), "secretsmanager") && contains(keys(aws_vpc_endpoint.interface), "kms")
    error_message = "AWS API traffic goes through VPC endpoints"
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3
    error_message = "one NAT gateway per zone by default"
  }
}

run "us_west_1_has_two_zones" {
  command = plan

  override_data {
    target          = data.aws_availability_zones.available
    override_during = plan
    values          = { names = ["us-west-1a", "us-west-1c"] }
  }

  assert {
    condition     = length(aws_subnet.private) == 2 && length(aws_subnet.data) == 2
    error_message = "two zones in a two-zone region, still multi-AZ"
  }
}
