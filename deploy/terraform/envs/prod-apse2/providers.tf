provider "aws" {
  region              = "ap-southeast-2"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}

# Region of the backup copy vault.
provider "aws" {
  alias               = "copy"
  region              = "ap-southeast-4"
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = local.tags
  }
}
