mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

mock_provider "aws" {
  alias           = "replica"
  override_during = plan
}

variables {
  name                      = "mhp-test"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-a", "subnet-b", "subnet-c"]
  client_security_group_ids = { app = "sg-app", worker = "sg-worker" }
  kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/data"
  secrets_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/secrets"
}

run "production_defaults" {
  command = plan

  assert {
    condition     = aws_rds_cluster.this.storage_encrypted && aws_rds_cluster.this.kms_key_id == var.kms_key_arn
    error_message = "the cluster is encrypted with the customer data key"
  }
  assert {
    condition     = alltrue([for i in aws_rds_cluster_instance.this : !i.publicly_accessible])
    error_message = "no instance is publicly accessible"
  }
  assert {
    condition     = aws_rds_cluster.this.deletion_protection && !aws_rds_cluster.this.skip_final_snapshot
    error_message = "deletion protection and a final snapshot by default"
  }
  assert {
    condition     = aws_rds_cluster.this.backup_retention_period == 35
    error_message = "35 days of point-in-time recovery by default"
  }
  assert {
    condition     = aws_rds_cluster.this.manage_master_user_password && aws_rds_cluster.this.master_password == null
    error_message = "the master password is kept by RDS in Secrets Manager, never in Terraform"
  }
  assert {
    condition     = one([for p in aws_rds_cluster_parameter_group.this.parameter : p.value if p.name == "rds.force_ssl"]) == "1"
    error_message = "TLS is forced"
  }
  assert {
    condition     = length(aws_rds_cluster_instance.this) >= 2
    error_message = "a writer and a reader in another zone"
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.clients) == 2 && alltrue([for r in aws_vpc_security_group_ingress_rule.clients : r.cidr_ipv4 == null])
    error_message = "only the named security groups reach the database, never a CIDR"
  }
}

run "single_instance_refused" {
  command = plan
  variables {
    instance_count = 1
  }
  expect_failures = [var.instance_count]
}
