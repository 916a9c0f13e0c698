# Test root applied against moto's server mode by scripts/check-deploy.sh (check moto-apply):
# the modules of the dev environment whose services moto implements, with the arguments
# modules/platform gives them for the non-production flavour. Never applied to AWS.
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State under target/ (check-deploy passes -backend-config=path=...), never in the source tree.
  backend "local" {}
}
