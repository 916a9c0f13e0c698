# The dev environment's modules as modules/platform wires them for flavour non-production
# (envs/dev: environment dev, VPC 10.10.0.0/16), limited to what moto implements; see
# deploy/README.md "Applied against moto" for the modules left out and why.

locals {
  environment = "dev"
  name        = "mhp-${local.environment}"
  tags = {
    "mhp:managed-by"  = "terraform"
    "mhp:root"        = "deploy/terraform/tests/moto"
    "mhp:environment" = local.environment
    "mhp:flavour"     = "non-production"
  }
  logs_days = 365 # non-production
}

data "aws_caller_identity" "current" {}

module "kms" {
  source = "../../modules/kms"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  name                    = local.name
  deletion_window_in_days = 30
  tags                    = local.tags
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr               = "10.10.0.0/16"
  max_azs            = 3
  single_nat_gateway = true
  logs_kms_key_arn   = module.kms.key_arns["logs"]
  log_retention_days = local.logs_days
  tags               = local.tags
}

module "object_store" {
  source = "../../modules/object-store"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  name            = local.name
  kms_key_arn     = module.kms.key_arns["data"]
  audit_lock_mode = "GOVERNANCE"
  audit_lock_days = 30
  force_destroy   = true  # the check destroys what it applied (dev itself: false)
  replication     = false # production only
  tags            = local.tags
}

module "secrets" {
  source = "../../modules/secrets"

  prefix                  = "mhp/${local.environment}"
  kms_key_arn             = module.kms.key_arns["secrets"]
  recovery_window_in_days = 30
  parameters = {
    "object_store.bucket"     = module.object_store.data_bucket
    "object_store.kms_key_id" = module.kms.key_arns["data"]
    "backup.to"               = module.object_store.backup_to
    "backup.keys_to"          = module.object_store.backup_keys_to
    "keys.kms_key_id"         = module.kms.key_arns["app"]
  }
  tags = local.tags
}

# modules/platform gives observability the names of ecs-app's cluster, service, load balancer
# and target group, of the Aurora cluster and of the OpenSearch domains, none of which moto can
# make here (README's table): its alarms only name them, so the names modules/platform would
# give for dev stand in for them (the ARN suffixes in their AWS form).
module "observability" {
  source = "../../modules/observability"

  name                    = local.name
  environment             = local.environment
  account_id              = data.aws_caller_identity.current.account_id
  logs_kms_key_arn        = module.kms.key_arns["logs"]
  log_retention_days      = local.logs_days
  alarm_emails            = ["operators@example.org"]
  alb_arn_suffix          = "app/${local.name}/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/${local.name}/0123456789abcdef"
  ecs_cluster_name        = local.name
  ecs_service_name        = "mhp-app"
  db_cluster_identifier   = local.name
  opensearch_domain_names = ["${local.name}-docs", "${local.name}-siem"]
  tags                    = local.tags
}
