# Every AWS API the applied modules call goes to the moto server the check started. Credentials
# are moto's fake ones, given by the check through the environment (AWS_ACCESS_KEY_ID ...).

variable "moto_endpoint" {
  description = "URL of the moto server (http://127.0.0.1:<port>)."
  type        = string
}

locals {
  # The services of the applied modules (and their data sources).
  moto_services = [
    "autoscaling", "cloudwatch", "ec2", "ecs", "elbv2", "events", "iam", "kms", "logs",
    "s3", "scheduler", "secretsmanager", "sns", "ssm", "sts",
  ]
}

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = false # moto answers sts:GetCallerIdentity (account 123456789012)
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 5 # only retryable errors are retried (a 4xx fails at once); moto's threaded server now and then closes a kept-alive connection under a request (seen in CI: "use of closed network connection" on GetResourcePolicy)

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

  default_tags {
    tags = local.tags
  }
}

# modules/kms and object-store take a replica provider (production replication only, off in dev).
provider "aws" {
  alias                       = "replica"
  region                      = "us-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = false
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 5 # only retryable errors are retried (a 4xx fails at once); moto's threaded server now and then closes a kept-alive connection under a request (seen in CI: "use of closed network connection" on GetResourcePolicy)

  endpoints {
    iam = var.moto_endpoint
    kms = var.moto_endpoint
    s3  = var.moto_endpoint
    sts = var.moto_endpoint
  }
}
