# Production, Asia Pacific (Sydney); backups copied to Melbourne so that Australian health data stays in Australia.
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
  #   terraform init -backend-config="bucket=mhp-tfstate-<account id>-ap-southeast-2"
  backend "s3" {
    key          = "envs/prod-apse2/terraform.tfstate"
    region       = "ap-southeast-2"
    encrypt      = true
    use_lockfile = true
  }
}
