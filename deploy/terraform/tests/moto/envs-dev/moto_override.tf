# Check moto-apply (deploy/README.md "Applied against moto"): placed into a temporary copy of
# envs/dev, this override file points both of the root's providers at the moto server the check
# started and keeps the state under target/. Region, allowed_account_ids (moto's account,
# given in moto.auto.tfvars) and default tags stay as envs/dev writes them. Credentials are
# moto's fake ones, from the check's environment.

terraform {
  backend "local" {}
}

provider "aws" {
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 5 # only retryable errors are retried (a 4xx fails at once); moto's threaded server now and then closes a kept-alive connection under a request ("use of closed network connection")

  endpoints {
    autoscaling    = var.moto_endpoint
    cloudwatch     = var.moto_endpoint
    ec2            = var.moto_endpoint
    ecs            = var.moto_endpoint
    elbv2          = var.moto_endpoint
    events         = var.moto_endpoint
    iam            = var.moto_endpoint
    kms            = var.moto_endpoint
    logs           = var.moto_endpoint
    s3             = var.moto_endpoint
    scheduler      = var.moto_endpoint
    secretsmanager = var.moto_endpoint
    sns            = var.moto_endpoint
    ssm            = var.moto_endpoint
    sts            = var.moto_endpoint
  }
}

provider "aws" {
  alias                       = "copy"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 5

  endpoints {
    autoscaling    = var.moto_endpoint
    cloudwatch     = var.moto_endpoint
    ec2            = var.moto_endpoint
    ecs            = var.moto_endpoint
    elbv2          = var.moto_endpoint
    events         = var.moto_endpoint
    iam            = var.moto_endpoint
    kms            = var.moto_endpoint
    logs           = var.moto_endpoint
    s3             = var.moto_endpoint
    scheduler      = var.moto_endpoint
    secretsmanager = var.moto_endpoint
    sns            = var.moto_endpoint
    ssm            = var.moto_endpoint
    sts            = var.moto_endpoint
  }
}
