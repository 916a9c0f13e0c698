locals {
  # The recovery region of each region mhp-env accepts (deploy/README.md "Environments" and
  # "RTO and RPO"): backup copies and, for --production, key replicas, replicated buckets and the
  # global database's secondary. deploy/bin/mhp-env keeps the same map.
  copy_region = {
    "us-east-1"      = "us-west-1"
    "us-west-1"      = "us-east-1"
    "ap-southeast-2" = "ap-southeast-4"
  }
  tags = {
    "mhp:managed-by" = "terraform"
    "mhp:root"       = "deploy/terraform/templates/demo"
    "mhp:demo"       = var.name
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}

provider "aws" {
  alias               = "copy"
  region              = local.copy_region[var.region] # the recovery region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}
