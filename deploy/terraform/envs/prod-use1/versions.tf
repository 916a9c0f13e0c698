# Production, US East (N. Virginia); backups copied to US West (N. California).
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
  #   terraform init -backend-config="bucket=mhp-tfstate-<account id>-us-east-1"
  backend "s3" {
    key          = "envs/prod-use1/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
