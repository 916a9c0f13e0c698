# Run once per AWS account and region, before any environment root: the Terraform state bucket
# (KMS, versioning, TLS only; S3 native locking needs nothing else), the GitHub OIDC provider,
# the deploy and plan roles and each environment's permissions boundary (modules/github-oidc),
# and - in the release account - the ECR repository with its replication.
# Its own state starts local and is then moved into the bucket it made
# (docs/runbooks/first-deployment.md, step 1).
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  backend "s3" {
    key          = "bootstrap/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      "mhp:managed-by" = "terraform"
      "mhp:root"       = "deploy/terraform/bootstrap"
    }
  }
}
