# One MHP environment: every module wired together. The environment roots (envs/<env>) and the
# demo template (templates/demo) call this module with their region, flavour and sizes; the
# flavour decides the secure defaults that differ between production and the rest.

data "aws_caller_identity" "current" {}

locals {
  name       = "mhp-${var.environment}"
  production = var.flavour == "production"
  demo       = var.flavour == "demo"
  tags = merge(var.tags, {
    "mhp:environment" = var.environment
    "mhp:flavour"     = var.flavour
  })

  # ec2_arch: the ECS hosts run the one image, built for linux/amd64 (scripts/build-image.sh,
  # checked by deploy/terraform/check_architecture.py), so x86_64 instance types (m7i, t3), never
  # Graviton (m7g, t4g); modules/ecs-app refuses a type of the other architecture.
  # OpenSearch: os_per_zone data nodes in each of os_zones zones (fewer where the VPC has fewer:
  # us-west-1 has two), so that the data nodes always divide over the zones.
  sizes = merge({
    production = {
      azs      = 3, single_nat = false, aurora_class = "db.r6g.large", aurora_instances = 2
      os_type  = "r6g.large.search", os_zones = 3, os_per_zone = 1, os_masters = true, os_volume = 100
      ec2_arch = "x86_64", ec2_type = "m7i.large", asg_min = 3, asg_max = 9, app_min = 3, app_max = 12
    }
    non-production = {
      azs      = 3, single_nat = true, aurora_class = "db.r6g.large", aurora_instances = 2
      os_type  = "m6g.large.search", os_zones = 2, os_per_zone = 1, os_masters = false, os_volume = 50
      ec2_arch = "x86_64", ec2_type = "m7i.large", asg_min = 2, asg_max = 4, app_min = 2, app_max = 4
    }
    demo = {
      azs      = 2, single_nat = true, aurora_class = "db.t4g.medium", aurora_instances = 2
      os_type  = "t3.medium.search", os_zones = 2, os_per_zone = 1, os_masters = false, os_volume = 20
      ec2_arch = "x86_64", ec2_type = "t3.large", asg_min = 2, asg_max = 2, app_min = 2, app_max = 2
    }
  }, {})[var.flavour]

  # Wazuh manager (modules/wazuh): the name MHP connects to, inside the VPC.
  wazuh_host = coalesce(var.wazuh_host, "wazuh.${var.public_host}")

  # E-mail through SES (modules/mail) when the environment names its mail domain; an empty value
  # (an unset GitHub variable in the deploy workflow) counts as none.
  mail_domain  = var.mail_domain == null ? "" : lower(trimspace(var.mail_domain))
  mail_enabled = local.mail_domain != ""
  mail_zone    = var.mail_hosted_zone_id == null ? null : (trimspace(var.mail_hosted_zone_id) == "" ? null : trimspace(var.mail_hosted_zone_id))
  # The sending identity, configuration set and sender the app's and the workers' task roles may
  # send through (null: no SES).
  mail = one(module.mail[*].sending)

  retention = {
    aurora_days     = local.production ? 35 : (local.demo ? 7 : 14)
    backup_daily    = local.production ? 35 : 7
    backup_monthly  = local.production ? 2190 : (local.demo ? 30 : 90)
    logs_days       = local.production ? 2192 : 365
    audit_lock_days = local.production ? 2190 : (local.demo ? 1 : 30)
  }
}

module "kms" {
  source = "../kms"
  providers = {
    aws         = aws
    aws.replica = aws.copy
  }

  name                    = local.name
  replicated_purposes     = local.cross_region ? ["data", "app"] : [] # recovery region = copy region
  deletion_window_in_days = local.demo ? 7 : 30
  tags                    = local.tags
}

# MHP's master key in the environment's own region (deploy/README.md "Multi-Region keys: the
# migration"): the app key; or, once an environment whose app key was made single-Region has
# moved (app_key_moved_to_multi_region), the multi-Region key beside it as master version 2,
# with the single-Region key still unwrapping version 1 until `mhp keys rewrap` has moved the
# root and the organisation keys onto the new one (and for restores of older key-store backups).
# Without the move the tasks' settings are those of before: no version, no earlier key.
locals {
  own_app_key_arn     = var.app_key_moved_to_multi_region ? module.kms.multi_region_key_arns["app"] : module.kms.key_arns["app"]
  own_app_key_version = var.app_key_moved_to_multi_region ? 2 : null
  own_app_previous_key_arns = {
    for v, k in { "1" = module.kms.key_arns["app"] } : v => k if var.app_key_moved_to_multi_region
  }
}

# The network became optional (recovery_of): the environments applied before keep theirs.
moved {
  from = module.network
  to   = module.network[0]
}

# The database became optional too (recovery_of: a recovery environment uses its source's
# secondary): the environments applied before keep their cluster.
moved {
  from = module.aurora
  to   = module.aurora[0]
}

# The copy region's key for the backup copy vault.
resource "aws_kms_key" "copy" {
  provider = aws.copy

  #checkov:skip=CKV2_AWS_64:The default key policy (account root administers, IAM decides) is the policy; AWS Backup uses the key through grants.
  description             = "${local.name} backup copies"
  enable_key_rotation     = true
  deletion_window_in_days = local.demo ? 7 : 30
  tags                    = local.tags
}

module "network" {
  source = "../network"
  count  = var.recovery_of == null ? 1 : 0 # a recovery environment runs in its source's recovery network (recovery.tf)

  name               = local.name
  cidr               = var.vpc_cidr
  max_azs            = local.sizes.azs
  single_nat_gateway = local.sizes.single_nat
  logs_kms_key_arn   = module.kms.key_arns["logs"]
  log_retention_days = local.retention.logs_days
  tags               = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

module "object_store" {
  source = "../object-store"
  providers = {
    aws         = aws
    aws.replica = aws.copy
  }

  name            = local.name
  kms_key_arn     = module.kms.key_arns["data"]
  audit_lock_mode = local.production ? "COMPLIANCE" : "GOVERNANCE"
  audit_lock_days = local.retention.audit_lock_days
  force_destroy   = local.demo
  tags            = local.tags
  # A recovery environment makes no data, backups or key-backups bucket: its tasks use the
  # replicas its source keeps in this region (recovery.tf local.app_data).
  data_buckets = var.recovery_of == null
  # Production: data and MHP's backups replicated to the recovery region (deploy/README.md "RTO and RPO").
  replication         = local.cross_region
  replica_kms_key_arn = local.cross_region ? module.kms.replica_key_arns["data"] : null

  permissions_boundary_arn = var.permissions_boundary_arn
}

module "observability" {
  source = "../observability"

  name                    = local.name
  environment             = var.environment
  account_id              = data.aws_caller_identity.current.account_id
  logs_kms_key_arn        = module.kms.key_arns["logs"]
  log_retention_days      = local.retention.logs_days
  alarm_emails            = var.alarm_emails
  alb_arn_suffix          = module.app.load_balancer_arn_suffix
  target_group_arn_suffix = module.app.target_group_arn_suffix
  ecs_cluster_name        = module.app.cluster_name
  ecs_service_name        = module.app.service_name
  db_cluster_identifier   = local.database_cluster # recovery_of: the promoted secondary
  opensearch_domain_names = ["${local.name}-docs", "${local.name}-siem"]
  # Production: the replication of the data and backup buckets to the recovery region, watched
  # here (the source region, where S3 publishes the metrics).
  s3_replication_rules = module.object_store.replication_rules
  # A recovery environment standing by runs no task that could report ready.
  app_standing_by = local.standby
  # SES publishes the bounces and complaints of the mail configuration set to the alarm topic.
  ses_configuration_set_arns = module.mail[*].configuration_set_arn
  tags                       = local.tags
}

# E-mail through Amazon SES (deploy/README.md, "E-mail"): invitations, password resets and alerts
# from the app's and the workers' tasks; bounces and complaints to the alarm topic; DKIM and MAIL
# FROM records when the domain's hosted zone is given.
module "mail" {
  source = "../mail"
  count  = local.mail_enabled ? 1 : 0

  name            = local.name
  domain          = local.mail_domain
  from            = var.mail_from
  hosted_zone_id  = local.mail_zone
  event_topic_arn = module.observability.alarm_topic_arn
  tags            = local.tags
}

module "secrets" {
  source = "../secrets"

  prefix                  = "mhp/${var.environment}"
  kms_key_arn             = module.kms.key_arns["secrets"]
  recovery_window_in_days = local.demo ? 0 : 30
  # The settings the tasks get, by their names; the recovery region has the same names for its
  # replicas (recovery.tf). The master key's version and earlier keys only once it has moved.
  parameters = merge({
    "object_store.bucket"     = local.app_data.bucket
    "object_store.kms_key_id" = local.app_data.kms_key_arn
    "backup.to"               = local.app_data.backup_to
    "backup.keys_to"          = local.app_data.backup_keys_to
    "index.opensearch_url"    = module.documents.endpoint
    "security.opensearch_url" = module.siem.endpoint
    "keys.kms_key_id"         = local.app_data.app_kms_key_arn
    }, local.app_key.version == null ? {} : {
    "keys.kms_key_version" = tostring(local.app_key.version)
    }, length(local.app_key.previous_ids) == 0 ? {} : {
    "keys.kms_previous_key_ids" = join(",", [for v, k in local.app_key.previous_ids : "${v}=${k}"])
  })
  # Production: the database's and the key store's URLs (with the mhp_app role's password) are
  # readable in the recovery region with this region down.
  replica = local.cross_region ? {
    region      = data.aws_region.copy.name
    kms_key_arn = module.recovery_kms[0].key_arns["secrets"]
    secrets     = ["database-url", "key-store-url"]
  } : null
  tags = local.tags
}

module "app" {
  source = "../ecs-app"

  name                = local.name
  image               = var.image
  collector_config    = module.observability.collector_config
  vpc_id              = local.network.vpc_id
  vpc_cidr            = local.network.vpc_cidr
  public_subnet_ids   = local.network.public_subnet_ids
  private_subnet_ids  = local.network.private_subnet_ids
  certificate_arn     = var.certificate_arn
  access_log_bucket   = module.object_store.logs_bucket
  deletion_protection = !local.demo
  kms_key_arn         = local.app_data.kms_key_arn
  app_kms_key_arn     = local.app_data.app_kms_key_arn
  secrets_kms_key_arn = module.kms.key_arns["secrets"]
  # The version the app key wraps as and the earlier keys that still unwrap (null and {}: none
  # set), and the task role may use (recovery.tf local.app_key).
  app_kms_key_version       = local.app_key.version
  app_kms_previous_key_arns = local.app_key.previous_ids
  secret_env = {
    DATABASE_URL       = module.secrets.secret_arns["database-url"]
    MHP_KEYS_STORE_URL = module.secrets.secret_arns["key-store-url"]
  }
  environment_variables         = var.app_environment
  public_url                    = "https://${var.public_host}"
  backup_to                     = local.app_data.backup_to
  backup_keys_to                = local.app_data.backup_keys_to
  backup_bucket_arns            = local.app_data.backup_bucket_arns
  data_bucket_arn               = local.app_data.bucket_arn
  audit_exports_bucket_arn      = module.object_store.audit_exports_bucket_arn
  opensearch_domain_arns        = [module.documents.arn, module.siem.arn]
  search_opensearch_url         = module.documents.endpoint
  siem_opensearch_url           = module.siem.endpoint
  log_group_name                = module.observability.log_group_names["app"]
  collector_log_group_arn       = module.observability.log_group_arns["collector"]
  security_log_group_name       = module.observability.log_group_names["security"]
  security_log_group_arn        = module.observability.log_group_arns["security"]
  syslog_address                = one(module.wazuh[*].syslog_address) # null without a manager
  mail                          = local.mail                          # null without a mail domain
  pipeline_task_definition_arns = [module.pipelines.task_definition_arn]
  pipeline_pass_role_arns       = [module.pipelines.worker_role_arn, module.pipelines.execution_role_arn]
  architecture                  = local.sizes.ec2_arch
  ami_parameter_name            = local.sizes.ec2_arch == "x86_64" ? module.host_image.ami_parameter_name : null # the pipeline builds x86_64
  instance_type                 = local.sizes.ec2_type
  force_delete                  = local.demo # teardown does not wait for scale-in-protected hosts
  asg_min_size                  = local.sizes.asg_min
  asg_max_size                  = local.sizes.asg_max
  desired_count                 = local.sizes.app_min
  max_count                     = local.sizes.app_max
  standby_count                 = local.standby ? var.standby_app_count : null # recovery.tf: pilot light or warm standby
  tags                          = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

# Hardened ECS host AMI, rebuilt weekly by EC2 Image Builder (deploy/README.md, "Hardened host images").
module "host_image" {
  source = "../host-image"

  name        = local.name
  environment = var.environment
  vpc_id      = local.network.vpc_id
  subnet_id   = local.network.private_subnet_ids[0]
  kms_key_arn = module.kms.key_arns["data"]
  tags        = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

module "pipelines" {
  source = "../ecs-pipelines"

  name                = local.name
  image               = var.image
  cluster_arn         = module.app.cluster_arn
  vpc_id              = local.network.vpc_id
  vpc_cidr            = local.network.vpc_cidr
  private_subnet_ids  = local.network.private_subnet_ids
  cpu_architecture    = upper(local.sizes.ec2_arch) # X86_64 or ARM64: the image's, as the app hosts'
  kms_key_arn         = local.app_data.kms_key_arn
  app_kms_key_arn     = local.app_data.app_kms_key_arn
  secrets_kms_key_arn = module.kms.key_arns["secrets"]
  # The version the app key wraps as and the earlier keys that still unwrap (null and {}: none
  # set), and the task role may use (recovery.tf local.app_key).
  app_kms_key_version       = local.app_key.version
  app_kms_previous_key_arns = local.app_key.previous_ids
  secret_env = {
    DATABASE_URL       = module.secrets.secret_arns["database-url"]
    MHP_KEYS_STORE_URL = module.secrets.secret_arns["key-store-url"]
  }
  # The settings the app's tasks share (public URL, backups, index, security sinks), and the
  # rights they need.
  environment_variables  = module.app.shared_environment
  backup_bucket_arns     = local.app_data.backup_bucket_arns
  opensearch_domain_arns = [module.documents.arn, module.siem.arn]
  security_log_group_arn = module.observability.log_group_arns["security"]
  data_bucket_arn        = local.app_data.bucket_arn
  mail                   = local.mail # the alerts pipelines raise go out as the app's mail does
  log_group_name         = module.observability.log_group_names["worker"]
  # Standing by (recovery.tf): no worker and no scheduled job until the database they need is
  # promoted and the service scaled up.
  worker_count      = local.standby ? 0 : var.worker_count
  schedules         = var.pipeline_schedules
  schedules_enabled = local.standby ? false : var.pipeline_schedules_enabled
  tags              = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

# The environment's own database; a recovery environment makes none: it uses the secondary of
# the environment it recovers, promoted by runbook B (recovery.tf local.database_cluster).
module "aurora" {
  source = "../aurora"
  count  = var.recovery_of == null ? 1 : 0
  providers = {
    aws         = aws
    aws.replica = aws.copy
  }

  name       = local.name
  vpc_id     = local.network.vpc_id
  subnet_ids = local.network.data_subnet_ids
  client_security_group_ids = {
    app    = module.app.app_security_group_id
    worker = module.pipelines.security_group_id
  }
  kms_key_arn           = module.kms.key_arns["data"]
  secrets_kms_key_arn   = module.kms.key_arns["secrets"]
  instance_class        = local.sizes.aurora_class
  instance_count        = local.sizes.aurora_instances
  backup_retention_days = local.retention.aurora_days
  deletion_protection   = !local.demo
  final_snapshot        = !local.demo
  global_cluster        = local.cross_region # deploy/README.md "RTO and RPO"
  # The secondary in the recovery region, in the network kept there (recovery.tf), encrypted
  # with the replica of the data key; headless (modules/aurora global.tf says why).
  secondary = local.cross_region ? {
    vpc_id         = module.recovery_network[0].vpc_id
    subnet_ids     = module.recovery_network[0].data_subnet_ids
    kms_key_arn    = module.kms.replica_key_arns["data"]
    instance_count = 0
    # Its lag, alarmed in the recovery region at the cross-region RPO (recovery.tf).
    alarm_topic_arns = aws_sns_topic.recovery_alarms[*].arn
    rpo_seconds      = local.cross_region_rpo_seconds
  } : null
  tags = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

resource "aws_iam_role" "opensearch_admin" {
  name                 = "${local.name}-opensearch-admin"
  description          = "Break-glass administration of the OpenSearch security plugin (assumed by operators)"
  assume_role_policy   = data.aws_iam_policy_document.operators.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = local.tags
}

data "aws_iam_policy_document" "operators" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
    condition {
      test     = "Bool"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["true"]
    }
  }
}

module "documents" {
  source = "../opensearch"

  name                      = "${local.name}-docs"
  vpc_id                    = local.network.vpc_id
  subnet_ids                = slice(local.network.data_subnet_ids, 0, min(local.sizes.os_zones, length(local.network.data_subnet_ids)))
  client_security_group_ids = { app = module.app.app_security_group_id, worker = module.pipelines.security_group_id }
  client_role_arns          = [module.app.app_role_arn, module.pipelines.worker_role_arn]
  master_role_arn           = aws_iam_role.opensearch_admin.arn
  kms_key_arn               = module.kms.key_arns["search"]
  logs_kms_key_arn          = module.kms.key_arns["logs"]
  log_retention_days        = local.retention.logs_days
  instance_type             = local.sizes.os_type
  instance_count            = local.sizes.os_per_zone * min(local.sizes.os_zones, length(local.network.data_subnet_ids))
  dedicated_master          = local.sizes.os_masters
  volume_size_gb            = local.sizes.os_volume
  tags                      = local.tags
}

module "siem" {
  source = "../siem"

  name                      = "${local.name}-siem"
  vpc_id                    = local.network.vpc_id
  subnet_ids                = slice(local.network.data_subnet_ids, 0, min(local.sizes.os_zones, length(local.network.data_subnet_ids)))
  client_security_group_ids = { app = module.app.app_security_group_id }
  client_role_arns          = [module.app.app_role_arn]
  master_role_arn           = aws_iam_role.opensearch_admin.arn
  kms_key_arn               = module.kms.key_arns["search"]
  logs_kms_key_arn          = module.kms.key_arns["logs"]
  log_retention_days        = local.retention.logs_days
  instance_type             = local.sizes.os_type
  instance_count            = local.sizes.os_per_zone * min(local.sizes.os_zones, length(local.network.data_subnet_ids))
  dedicated_master          = local.sizes.os_masters
  volume_size_gb            = local.sizes.os_volume
  alert_emails              = var.security_alert_emails
  tags                      = local.tags

  # Detection that receives data: the platform's logs into the SIEM (Firehose in the VPC).
  vpc_cidr          = local.network.vpc_cidr
  ingest_subnet_ids = local.network.private_subnet_ids
  access_log_bucket = module.object_store.logs_bucket
  force_destroy     = local.demo
  event_log_groups = merge(
    { for k in ["app", "worker", "security"] : k => module.observability.log_group_names[k] },
    var.security_baseline ? { cloudtrail = module.security_baseline[0].trail_log_group_name } : {},
    var.wazuh_enabled ? { wazuh = module.wazuh[0].alerts_log_group_name } : {},
  )
  flow_log_groups = { vpc = local.network.flow_log_group_name }

  permissions_boundary_arn = var.permissions_boundary_arn
}

# A Wazuh manager in the VPC receiving MHP's security events by syslog over TLS, running MHP's
# decoder and rules (deploy/README.md, "Wazuh manager"); on in the production roots.
module "wazuh" {
  source = "../wazuh"
  count  = var.wazuh_enabled ? 1 : 0

  name                      = "${local.name}-wazuh"
  cluster_arn               = module.app.cluster_arn
  vpc_id                    = local.network.vpc_id
  vpc_cidr                  = local.network.vpc_cidr
  private_subnet_ids        = local.network.private_subnet_ids
  client_security_group_ids = { app = module.app.app_security_group_id } # `mhp serve` ships the events
  host_name                 = local.wazuh_host
  certificate_arn           = var.wazuh_certificate_arn
  kms_key_arn               = module.kms.key_arns["data"]
  logs_kms_key_arn          = module.kms.key_arns["logs"]
  secrets_kms_key_arn       = module.kms.key_arns["secrets"]
  api_secret_name           = "mhp/${var.environment}/wazuh-api"
  log_retention_days        = local.retention.logs_days
  access_log_bucket         = module.object_store.logs_bucket
  deletion_protection       = !local.demo
  force_destroy             = local.demo
  tags                      = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

# The Cognito pool an organisation may name as its SSO provider (PUT /api/v1/orgs/{org}/sso
# with the pool's issuer and the app client's id and secret). The redirect URI is the one MHP
# sends: its public URL (the tasks' http.public_url) and its SSO callback route; after a
# Cognito sign-out people land on MHP's start page. deploy/check_app_config.py (check
# app-config) compares both with the routes the binary serves.
module "identity" {
  source = "../identity"

  name                = local.name
  domain_prefix       = "${local.name}-${data.aws_caller_identity.current.account_id}"
  callback_urls       = ["https://${var.public_host}/api/v1/auth/sso/callback"]
  logout_urls         = ["https://${var.public_host}/"]
  mfa_required        = local.production
  deletion_protection = !local.demo
  tags                = local.tags
}

module "waf" {
  source = "../waf"

  name               = local.name
  load_balancer_arn  = module.app.load_balancer_arn
  logs_kms_key_arn   = module.kms.key_arns["logs"]
  log_retention_days = local.retention.logs_days
  tags               = local.tags
}

module "backup" {
  source = "../backup"
  providers = {
    aws      = aws
    aws.copy = aws.copy
  }

  name             = local.name
  kms_key_arn      = module.kms.key_arns["data"]
  copy_kms_key_arn = aws_kms_key.copy.arn
  resource_arns = concat(
    module.aurora[*].cluster_arn, # none in a recovery environment: the promoted secondary keeps its own automated backups
    # The data bucket the tasks use (a recovery environment's: its source's replica, recovery.tf
    # local.app_data; it makes none of its own) and the audit exports.
    [local.app_data.bucket_arn, module.object_store.audit_exports_bucket_arn],
    module.wazuh[*].file_system_arn, # the Wazuh manager's state
  )
  # Vault notifications and weekly restore testing (deploy/README.md "RTO and RPO").
  notifications_kms_key_arn = module.kms.key_arns["logs"]
  notification_emails       = var.alarm_emails
  restore_test_resources = merge(
    { for a in module.aurora : "Aurora" => [a.cluster_arn] },
    { S3 = [local.app_data.bucket_arn] },
  )
  restore_metadata_overrides = {
    for a in module.aurora : "Aurora" => { dbsubnetgroupname = local.name, vpcsecuritygroupids = jsonencode([a.security_group_id]) }
  }
  daily_retention_days   = local.retention.backup_daily
  monthly_retention_days = local.retention.backup_monthly
  vault_lock             = local.production
  force_destroy          = local.demo
  tags                   = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

module "security_baseline" {
  source = "../security-baseline"
  count  = var.security_baseline ? 1 : 0

  name                       = local.name
  kms_key_arn                = module.kms.key_arns["data"]
  logs_kms_key_arn           = module.kms.key_arns["logs"]
  access_log_bucket          = module.object_store.logs_bucket
  data_event_bucket_arns     = [local.app_data.bucket_arn, module.object_store.audit_exports_bucket_arn]
  malware_protection_bucket  = local.app_data.bucket # where uploads land
  trail_lock_mode            = local.production ? "COMPLIANCE" : "GOVERNANCE"
  trail_retention_days       = local.production ? 2190 : 365
  log_retention_days         = local.retention.logs_days
  record_global_resources    = var.record_global_resources
  hipaa_pack_template_s3_uri = var.hipaa_pack_template_s3_uri
  force_destroy              = local.demo
  tags                       = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

# Route 53 failover of public_host (issue 21): when the environment names its hosted zone. A
# recovery environment makes no records: the environment it recovers owns public_host's
# PRIMARY and SECONDARY records, its SECONDARY naming this environment's load balancer
# (failover_secondary), and Route 53 refuses a second PRIMARY record of the same name.
module "failover" {
  source = "../failover"
  count  = var.hosted_zone_id == null || var.recovery_of != null ? 0 : 1

  name              = local.name
  hosted_zone_id    = var.hosted_zone_id
  public_host       = var.public_host
  load_balancer_arn = module.app.load_balancer_arn
  secondary         = var.failover_secondary
  tags              = local.tags
}
