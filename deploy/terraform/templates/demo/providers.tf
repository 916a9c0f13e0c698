locals {
  # The recovery region of each region mhp-env accepts (deploy/README.md "Environments" and
  # "RTO and RPO"): backup copies and, for --production, key replicas, replicated buckets and the
  # global database's secondary. deploy/bin/mhp-env keeps the same map.
  copy_region = {
    "us-east-1"      = "us-west-1"
    "us-west-1"      = "us-east-1"
    "ap-southeast-2" = "ap-southeast-4"
  }
  # copy_region inverted: the region whose recovery region each recovery region is. A recovery
  # environment (recovery_of, docs/runbooks/restore-to-new-region.md B) runs in its source's
  # recovery region, which need be no region of its own (ap-southeast-4), and copies its backups
  # back to its source's region (ap-southeast-4 -> ap-southeast-2: Australian health data stays
  # in Australia; us-west-1 -> us-east-1 and back, as copy_region). deploy/bin/mhp-env
  # source_region() keeps the same map.
  source_region = { for region, recovery in local.copy_region : recovery => region }
  # Where this environment's backups are copied (the `copy` provider, output recovery_region).
  backup_copy_region = var.recovery_of == null ? local.copy_region[var.region] : local.source_region[var.region]
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
  region              = local.backup_copy_region # the recovery region (a recovery environment: its source's region)
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}
