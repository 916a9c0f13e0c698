provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}

# Recovery region (deploy/README.md "RTO and RPO"): backup copy vault; in production also the
# replica keys, replicated buckets and the global database's secondary.
provider "aws" {
  alias               = "copy"
  region              = "us-west-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}
