provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}

# Region of the backup copy vault.
provider "aws" {
  alias               = "copy"
  region              = "us-west-1"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}
