# What MHP's configuration points at (see the table in deploy/README.md).

output "load_balancer_dns_name" {
  description = "Point public_host (CNAME) here."
  value       = module.app.load_balancer_dns_name
}

output "database_endpoint" {
  description = "Host of DATABASE_URL (the value itself is the Secrets Manager secret database-url); a recovery environment's: its source's secondary (writer once promoted)."
  value       = var.recovery_of == null ? module.aurora[0].endpoint : local.recovered["recovery.database_endpoint"]
}

output "database_url_secret_arn" {
  description = "Secret holding DATABASE_URL of the mhp_app role; its value is put by the first-deployment runbook."
  value       = module.secrets.secret_arns["database-url"]
}

output "database_master_secret_arn" {
  description = "RDS-managed master user secret (break-glass only; never given to the app); null in a recovery environment (the promoted secondary's master user is its source's, whose secret stays in the source's region)."
  value       = one(module.aurora[*].master_user_secret_arn)
}

output "data_bucket" {
  description = "The data bucket: object_store.bucket / MHP_OBJECT_STORE_BUCKET (a recovery environment's: its source's replica)."
  value       = local.app_data.bucket
}

output "audit_exports_bucket" {
  description = "Object-locked bucket for audit exports."
  value       = module.object_store.audit_exports_bucket
}

output "documents_opensearch_url" {
  description = "The document index (index.opensearch_url / MHP_INDEX_OPENSEARCH_URL)."
  value       = module.documents.endpoint
}

output "siem_opensearch_url" {
  description = "The SIEM domain (security.opensearch_url / MHP_SECURITY_OPENSEARCH_URL)."
  value       = module.siem.endpoint
}

output "app_kms_key_arn" {
  description = "Planned key keys.kms_key_id / MHP_KEYS_KMS_KEY_ID: the app key, or once an environment whose app key was made single-Region has moved (app_key_moved_to_multi_region) the multi-Region app key beside it (keys.kms_key_version 2; task_environments shows the version and the earlier key); a recovery environment's: the replica of its source's app key."
  value       = local.app_data.app_kms_key_arn
}

output "oidc_issuer" {
  description = "The Cognito pool's issuer, for an organisation's SSO settings (PUT /api/v1/orgs/{org}/sso issuer)."
  value       = module.identity.issuer
}

output "oidc_client_id" {
  description = "The Cognito app client's id, for an organisation's SSO settings (PUT /api/v1/orgs/{org}/sso client_id)."
  value       = module.identity.client_id
}

output "ecs_cluster" {
  description = "ECS cluster."
  value       = module.app.cluster_name
}

output "ecs_service" {
  description = "ECS app service."
  value       = module.app.service_name
}

output "ecs_task_family" {
  description = "App task definition family (one-off `mhp migrate`)."
  value       = module.app.task_definition_family
}

output "ecs_private_subnets" {
  description = "Subnets for one-off tasks."
  value       = module.app.private_subnet_ids
}

output "ecs_app_security_group" {
  description = "Security group for one-off tasks."
  value       = module.app.app_security_group_id
}

output "alarm_topic_arn" {
  description = "SNS topic of alarms."
  value       = module.observability.alarm_topic_arn
}

output "security_alert_topic_arn" {
  description = "SNS topic of security alerts."
  value       = module.siem.security_alert_topic_arn
}

output "backup_vault" {
  description = "AWS Backup vault."
  value       = module.backup.vault_name
}

output "controls" {
  description = "The secure defaults of this environment, as planned (asserted by the tests)."
  value = {
    zones                      = length(local.network.azs)
    aurora_deletion_protection = one(module.aurora[*].deletion_protection) # null: a recovery environment, no cluster of its own
    aurora_backup_days         = one(module.aurora[*].backup_retention_days)
    lb_deletion_protection     = module.app.load_balancer_deletion_protection
    backup_vault_locked        = module.backup.vault_locked
    backup_monthly_days        = module.backup.monthly_retention_days
    audit_exports_lock         = module.object_store.audit_exports_lock
    security_baseline          = length(module.security_baseline) == 1
    wazuh_manager              = length(module.wazuh) == 1
  }
}

output "shared_settings" {
  description = "The MHP settings every task of this environment shares (public URL, backups, index, security sinks)."
  value       = module.app.shared_environment
}

output "mail" {
  description = "E-mail through SES (deploy/README.md \"E-mail\"): the sender, the identity, the configuration set, the settings every MHP task gets (MHP_MAIL_*), the DNS records the domain needs (made in mail_hosted_zone_id when given) and the environment variables of the app's and the workers' containers as planned; null without mail_domain."
  value = one([for m in module.mail : {
    from                  = m.sending.from
    identity_arn          = m.identity_arn
    configuration_set     = m.sending.configuration_set_name
    configuration_set_arn = m.configuration_set_arn
    settings              = m.settings
    dns_records           = m.dns_records
    controls              = m.controls
  }])
}

output "task_environments" {
  description = "The plain environment of the app's and the workers' MHP containers, as planned (asserted by the tests; modules/platform/tests/contract.tftest.hcl hands the task definitions to the binary)."
  value = {
    app    = module.app.container_environment
    worker = module.pipelines.container_environment
  }
}

output "recovery" {
  description = "What the environment has for recovery in another region (deploy/README.md \"RTO and RPO\"): in production what it keeps in its recovery region, and the settings (by parameter name) a recovery environment there reads from /mhp/<env>/...; in a recovery environment (recovery_of), what it recovers."
  value = {
    replicated_keys       = sort(keys(module.kms.replica_key_arns))
    replica_buckets       = module.object_store.replica_buckets
    global_cluster        = one(module.aurora[*].global_cluster_identifier)
    restore_testing_plan  = module.backup.restore_testing_plan
    backup_notifications  = module.backup.notifications_topic_arn
    failover_health_check = one(module.failover[*].health_check_id)

    # Production: the recovery region and what is kept there.
    region             = local.cross_region ? data.aws_region.copy.name : null
    replica_key_arns   = module.kms.replica_key_arns
    global_endpoint    = one(module.aurora[*].global_endpoint)
    secondary          = one(module.aurora[*].secondary)
    replicated_secrets = local.cross_region ? ["database-url", "key-store-url"] : []
    network = one([for n in module.recovery_network : {
      vpc_id             = n.vpc_id
      vpc_cidr           = n.vpc_cidr
      azs                = n.azs
      private_subnet_ids = n.private_subnet_ids
      data_subnet_ids    = n.data_subnet_ids
    }])
    # The keys in use that were made single-Region (kept; a multi-Region key beside each): what
    # they encrypt does not open in the recovery region.
    single_region_keys_in_use = module.kms.single_region_in_use
    parameter_prefix          = local.cross_region ? "/mhp/${var.environment}/" : null
    settings                  = local.cross_region ? local.recovery_parameters : null
    parameter_arns            = one(module.recovery_parameters[*].parameter_arns)

    # The replication alarms (cross-region RPO): the secondary's lag in the recovery region, to
    # that region's alarm topic; the buckets' replication here, to the alarm topic.
    alarm_topic             = one(aws_sns_topic.recovery_alarms[*].arn)
    secondary_lag_alarms    = one(module.aurora[*].secondary_lag_alarms)
    s3_replication_alarms   = module.observability.s3_replication_alarms
    replication_rpo_seconds = local.cross_region ? local.cross_region_rpo_seconds : null

    # A recovery environment: the environment it recovers and the database it uses (its
    # source's secondary: it makes none of its own).
    recovering   = var.recovery_of
    database     = var.recovery_of == null ? null : { cluster = local.database_cluster, endpoint = local.recovered["recovery.database_endpoint"] }
    own_database = length(module.aurora) == 1
    # Standing by ahead of a disaster (standby_app_count; null once serving): what runs now, and
    # the serving sizes runbook B scales the services up to.
    standby = local.standby ? {
      app_tasks       = var.standby_app_count
      worker_tasks    = 0
      schedules       = "DISABLED"
      cluster         = module.app.cluster_name
      app_service     = module.app.service_name
      worker_service  = module.pipelines.service_name
      serving_app_min = local.sizes.app_min
      serving_app_max = local.sizes.app_max
      serving_workers = var.worker_count
    } : null
  }
}

output "wazuh" {
  description = "The Wazuh manager (deploy/README.md \"Wazuh manager\"): where MHP sends its events (security.syslog_address), the API password's secret, the alerts' log group; null when wazuh_enabled is off."
  value = one([for w in module.wazuh : {
    syslog_address   = w.syslog_address
    api_secret_arn   = w.api_secret_arn
    alerts_log_group = w.alerts_log_group_name
    service          = w.service_name
    config_bucket    = w.config_bucket
  }])
}
