# Template root for environments made on demand (demonstrations, short-lived tests) in any of
# the three regions. One root, many states: deploy/bin/mhp-env gives each environment its own
# state key (demo/<name>/terraform.tfstate) and its own working directory.
#   deploy/bin/mhp-env up   NAME REGION   create or update
#   deploy/bin/mhp-env down NAME REGION   tear down (keeps only what backups must keep)
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
