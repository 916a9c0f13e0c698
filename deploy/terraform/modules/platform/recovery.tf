# Recovery in another region (issue 21; deploy/README.md "RTO and RPO",
# docs/runbooks/restore-to-new-region.md). Two sides:
#
# - A production environment (cross_region) keeps in its recovery region (aws.copy, the backup
#   copy region): the replicas of its app and data keys (modules/kms), of its data and backup
#   buckets (modules/object-store), of its database and key-store URLs (modules/secrets), a
#   network (modules/network, recovery_vpc_cidr) holding its Aurora global database's headless
#   secondary (modules/aurora), a logs and a secrets key of that region, and, as SSM parameters
#   under its own /mhp/<env>/ prefix, everything a recovery environment needs: the settings by
#   the names the tasks' parameters have here (object_store.bucket, object_store.kms_key_id,
#   keys.kms_key_id, backup.to, backup.keys_to; keys.kms_key_version once the app key has moved
#   to a multi-Region key, app_key_moved_to_multi_region), and the network and database as
#   recovery.*.
# - A recovery environment (recovery_of = that environment's name, applied in that region by the
#   template root) reads those parameters: its tasks run in that network, on the replica buckets
#   and keys, and may reach the secondary once promoted; it makes no database, and no data,
#   backups or key-backups bucket, of its own (modules/object-store data_buckets; AWS Backup
#   selects the data replica its tasks use), and nothing cross-region but AWS Backup's copy
#   vault. Applied ahead of a disaster it stands by (standby_app_count): the app service at 0
#   tasks (pilot light) or a few (warm standby), no worker, no scheduled job, no container host
#   but what placed tasks need; the runbook's recovery scales it up rather than applying it for
#   the first time.
#
# The cross-region RPO (15 minutes, deploy/README.md "RTO and RPO") is alarmed where each
# replication publishes its metrics: the secondary's lag in the recovery region (modules/aurora,
# to this file's recovery alarm topic), the buckets' replication in this region
# (modules/observability, to the alarm topic).

data "aws_region" "copy" {
  provider = aws.copy
}

data "aws_partition" "current" {}

locals {
  # What a production environment keeps in its recovery region; a recovery environment keeps
  # nothing there (its recovery region may be the lost one).
  cross_region = local.production && var.recovery_of == null

  # The cross-region RPO the replication alarms hold the secondary and the buckets to (S3
  # Replication Time Control's bound, the same 15 minutes).
  cross_region_rpo_seconds = 900

  # A recovery environment applied ahead of a disaster stands by until it is scaled up
  # (standby_app_count null: serving, as any environment).
  standby = var.recovery_of != null && var.standby_app_count != null

  # The parameters a recovery environment reads (written by the source below).
  recovered_names = [
    "object_store.bucket", "object_store.kms_key_id", "keys.kms_key_id", "backup.to", "backup.keys_to",
    "recovery.vpc_id", "recovery.vpc_cidr", "recovery.azs", "recovery.public_subnet_ids",
    "recovery.private_subnet_ids", "recovery.data_subnet_ids", "recovery.flow_log_group",
    "recovery.database_cluster", "recovery.database_endpoint", "recovery.database_security_group_id",
  ]
}

# ---------------------------------------------------------------------------------------------
# The source side: production.

# The recovery region's own keys: its flow logs (logs), the replicated secrets and these
# parameters (secrets). The app and data keys there are the replicas of modules/kms.
module "recovery_kms" {
  source = "../kms"
  count  = local.cross_region ? 1 : 0
  providers = {
    aws         = aws.copy
    aws.replica = aws.copy # unused: nothing replicated
  }

  name                    = local.name
  purposes                = ["logs", "secrets"]
  deletion_window_in_days = 30
  tags                    = local.tags
}

# The network the secondary lives in, and a recovery environment runs in: the same tiers,
# endpoints and flow logs as the environment's own, in a CIDR of its own. One NAT gateway until a
# recovery environment runs there (the AWS APIs go through the VPC endpoints).
module "recovery_network" {
  source = "../network"
  count  = local.cross_region ? 1 : 0
  providers = {
    aws = aws.copy
  }

  name               = "${local.name}-recovery"
  cidr               = var.recovery_vpc_cidr
  max_azs            = local.sizes.azs
  single_nat_gateway = true
  logs_kms_key_arn   = module.recovery_kms[0].key_arns["logs"]
  log_retention_days = local.retention.logs_days
  tags               = local.tags

  permissions_boundary_arn = var.permissions_boundary_arn
}

locals {
  # The settings of a recovery environment's tasks there, by the names of this region's
  # parameters (module.secrets). keys.kms_key_id only when the app key in use is multi-Region:
  # an app key made single-Region (before replication) wraps organisation keys that its
  # replica-less key cannot open there (deploy/README.md "Multi-Region keys: the migration").
  # Once the environment has moved to the multi-Region key beside it
  # (app_key_moved_to_multi_region), keys.kms_key_id names that key's replica and
  # keys.kms_key_version the version it wraps as (2); no earlier key: the single-Region key has
  # no replica, so the recovery region opens only what `mhp keys rewrap` has moved.
  recovery_app_key = !local.cross_region || (contains(module.kms.single_region_in_use, "app") && !var.app_key_moved_to_multi_region) ? {} : merge({
    "keys.kms_key_id" = module.kms.replica_key_arns["app"]
    }, local.own_app_key_version == null ? {} : {
    "keys.kms_key_version" = tostring(local.own_app_key_version)
  })
  recovery_parameters = local.cross_region ? merge({
    "object_store.bucket"     = module.object_store.replica_buckets["data"]
    "object_store.kms_key_id" = module.kms.replica_key_arns["data"]
    "backup.to"               = "s3://${module.object_store.replica_buckets["backups"]}/mhp"
    "backup.keys_to"          = "s3://${module.object_store.replica_buckets["key-backups"]}/mhp"

    "recovery.vpc_id"             = module.recovery_network[0].vpc_id
    "recovery.vpc_cidr"           = module.recovery_network[0].vpc_cidr
    "recovery.azs"                = join(",", module.recovery_network[0].azs)
    "recovery.public_subnet_ids"  = join(",", module.recovery_network[0].public_subnet_ids)
    "recovery.private_subnet_ids" = join(",", module.recovery_network[0].private_subnet_ids)
    "recovery.data_subnet_ids"    = join(",", module.recovery_network[0].data_subnet_ids)
    "recovery.flow_log_group"     = module.recovery_network[0].flow_log_group_name

    "recovery.database_cluster"           = module.aurora[0].secondary.cluster_identifier
    "recovery.database_endpoint"          = module.aurora[0].secondary.endpoint
    "recovery.database_security_group_id" = module.aurora[0].secondary.security_group_id
  }, local.recovery_app_key) : {}
}

# The recovery region's alarm topic: the secondary's lag alarms live there (Aurora publishes a
# global database's lag only in secondary Regions) and must reach people with this region down.
# Encrypted like the alarm topic of modules/observability, with the region's own logs key (its
# policy lets CloudWatch use it for alarm topics, modules/kms AlarmAndFindingTopics).
resource "aws_sns_topic" "recovery_alarms" {
  count    = local.cross_region ? 1 : 0
  provider = aws.copy

  name              = "${local.name}-recovery-alarms"
  kms_master_key_id = module.recovery_kms[0].key_arns["logs"]
  tags              = local.tags
}

# Only this account's CloudWatch alarms of this environment, in the recovery region, publish.
data "aws_iam_policy_document" "recovery_alarm_topic" {
  count = local.cross_region ? 1 : 0

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.recovery_alarms[0].arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.copy.name}:${data.aws_caller_identity.current.account_id}:alarm:${local.name}-*"]
    }
  }
}

resource "aws_sns_topic_policy" "recovery_alarms" {
  count    = local.cross_region ? 1 : 0
  provider = aws.copy

  arn    = aws_sns_topic.recovery_alarms[0].arn
  policy = data.aws_iam_policy_document.recovery_alarm_topic[0].json
}

resource "aws_sns_topic_subscription" "recovery_alarm_email" {
  for_each = local.cross_region ? toset(var.alarm_emails) : toset([])
  provider = aws.copy

  topic_arn = aws_sns_topic.recovery_alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

module "recovery_parameters" {
  source = "../secrets"
  count  = local.cross_region ? 1 : 0
  providers = {
    aws = aws.copy
  }

  prefix      = "mhp/${var.environment}"
  kms_key_arn = module.recovery_kms[0].key_arns["secrets"]
  secrets     = {} # database-url and key-store-url are replicas of this region's (module.secrets)
  parameters  = local.recovery_parameters
  tags        = local.tags
}

# ---------------------------------------------------------------------------------------------
# The recovery side: an environment that recovers recovery_of in its recovery region.

data "aws_ssm_parameter" "recovered" {
  for_each = var.recovery_of == null ? toset([]) : toset(local.recovered_names)

  name = "/mhp/${var.recovery_of}/${each.key}"
}

# keys.kms_key_version exists only where the source's app key has moved to a multi-Region key
# (app_key_moved_to_multi_region): read with the parameters of the path, where its absence is
# no error (a source whose app key was made multi-Region wraps as version 1, MHP's default).
data "aws_ssm_parameters_by_path" "recovered" {
  count = var.recovery_of == null ? 0 : 1

  path            = "/mhp/${var.recovery_of}"
  recursive       = false
  with_decryption = true
}

locals {
  # Names and identifiers, not secrets: the parameters are SecureStrings for their key only.
  recovered = { for k, p in data.aws_ssm_parameter.recovered : k => nonsensitive(p.value) }

  # The master version the recovered key wraps as (null: not written, MHP's default 1).
  recovered_app_key_version = one(flatten([
    for p in data.aws_ssm_parameters_by_path.recovered : [
      for i, n in p.names : tonumber(nonsensitive(p.values[i])) if n == "/mhp/${var.recovery_of}/keys.kms_key_version"
    ]
  ]))

  # MHP's master key as the app's and the workers' tasks get it and their roles may use it: the
  # environment's own (main.tf local.own_app_key_*), or the replica its source left in this
  # region with the version the source wraps as and no earlier key (the single-Region key the
  # source moved from has no replica: `mhp keys rewrap` must have finished before the recovery).
  app_key = {
    version      = var.recovery_of == null ? local.own_app_key_version : local.recovered_app_key_version
    previous_ids = { for v, k in local.own_app_previous_key_arns : v => k if var.recovery_of == null }
  }

  # The network every module of the environment uses.
  network = var.recovery_of == null ? {
    vpc_id              = module.network[0].vpc_id
    vpc_cidr            = module.network[0].vpc_cidr
    azs                 = tolist(module.network[0].azs)
    public_subnet_ids   = tolist(module.network[0].public_subnet_ids)
    private_subnet_ids  = tolist(module.network[0].private_subnet_ids)
    data_subnet_ids     = tolist(module.network[0].data_subnet_ids)
    flow_log_group_name = module.network[0].flow_log_group_name
    } : {
    vpc_id              = local.recovered["recovery.vpc_id"]
    vpc_cidr            = local.recovered["recovery.vpc_cidr"]
    azs                 = split(",", local.recovered["recovery.azs"])
    public_subnet_ids   = split(",", local.recovered["recovery.public_subnet_ids"])
    private_subnet_ids  = split(",", local.recovered["recovery.private_subnet_ids"])
    data_subnet_ids     = split(",", local.recovered["recovery.data_subnet_ids"])
    flow_log_group_name = local.recovered["recovery.flow_log_group"]
  }

  # What the app's and the workers' tasks read and write, and their roles may use: the
  # environment's own, or the replicas of the environment it recovers.
  app_data_settings = var.recovery_of == null ? {
    bucket          = module.object_store.data_bucket
    kms_key_arn     = module.kms.key_arns["data"]
    app_kms_key_arn = local.own_app_key_arn
    backup_to       = module.object_store.backup_to
    backup_keys_to  = module.object_store.backup_keys_to
    } : {
    bucket          = local.recovered["object_store.bucket"]
    kms_key_arn     = local.recovered["object_store.kms_key_id"]
    app_kms_key_arn = local.recovered["keys.kms_key_id"]
    backup_to       = local.recovered["backup.to"]
    backup_keys_to  = local.recovered["backup.keys_to"]
  }
  app_data = merge(local.app_data_settings, {
    bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${local.app_data_settings.bucket}"
    backup_bucket_arns = var.recovery_of == null ? module.object_store.backup_bucket_arns : [
      for u in [local.app_data_settings.backup_to, local.app_data_settings.backup_keys_to] :
      "arn:${data.aws_partition.current.partition}:s3:::${regex("^s3://([^/]+)", u)[0]}"
    ]
  })

  # The database the tasks use (alarms name it): the environment's own cluster, or the
  # secondary it recovers (promoted by runbook B step 2); a recovery environment makes none.
  database_cluster = var.recovery_of == null ? module.aurora[0].cluster_identifier : local.recovered["recovery.database_cluster"]
}

# The secondary admits the recovery environment's app and workers (its own group admits no one).
resource "aws_vpc_security_group_ingress_rule" "recovered_database" {
  for_each = var.recovery_of == null ? {} : {
    app    = module.app.app_security_group_id
    worker = module.pipelines.security_group_id
  }

  security_group_id            = local.recovered["recovery.database_security_group_id"]
  description                  = "PostgreSQL from ${local.name} ${each.key} (recovery of ${var.recovery_of})"
  referenced_security_group_id = each.value
  from_port                    = 5432
  to_port                      = 5432
  ip_protocol                  = "tcp"
  tags                         = local.tags
}
