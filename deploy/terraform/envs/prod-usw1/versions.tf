# Production, US West (N. California: two availability zones); backups copied to US East.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State in the account's state bucket (made by deploy/terraform/bootstrap), encrypted, with S3
  # native locking. The bucket name is given at init:
  #   terraform init -backend-config="bucket=mhp-tfstate-<account id>-us-west-1"
  backend "s3" {
    key          = "envs/prod-usw1/terraform.tfstate"
    region       = "us-west-1"
    encrypt      = true
    use_lockfile = true
  }
}
