output "platform" {
  description = "Endpoints and names MHP's configuration points at (deploy/README.md)."
  value = {
    load_balancer_dns_name     = module.platform.load_balancer_dns_name
    database_endpoint          = module.platform.database_endpoint
    database_url_secret_arn    = module.platform.database_url_secret_arn
    database_master_secret_arn = module.platform.database_master_secret_arn
    data_bucket                = module.platform.data_bucket
    audit_exports_bucket       = module.platform.audit_exports_bucket
    documents_opensearch_url   = module.platform.documents_opensearch_url
    siem_opensearch_url        = module.platform.siem_opensearch_url
    app_kms_key_arn            = module.platform.app_kms_key_arn
    oidc_issuer                = module.platform.oidc_issuer
    oidc_client_id             = module.platform.oidc_client_id
    alarm_topic_arn            = module.platform.alarm_topic_arn
    security_alert_topic_arn   = module.platform.security_alert_topic_arn
    backup_vault               = module.platform.backup_vault
  }
}

# Read by the deploy workflow for the one-off `mhp migrate` task and the rollout wait.
output "ecs" {
  description = "ECS names for the deploy workflow."
  value = {
    cluster        = module.platform.ecs_cluster
    service        = module.platform.ecs_service
    task_family    = module.platform.ecs_task_family
    subnets        = module.platform.ecs_private_subnets
    security_group = module.platform.ecs_app_security_group
  }
}

output "controls" {
  description = "Secure defaults of this environment."
  value       = module.platform.controls
}

output "recovery_region" {
  description = "Where this environment's backups are copied: the recovery region of its region; for a recovery environment (recovery_of), its source's region."
  value       = local.backup_copy_region
}

output "recovery" {
  description = "Recovery in the recovery region (deploy/README.md \"RTO and RPO\")."
  value       = module.platform.recovery
}

output "mail" {
  description = "E-mail through SES: sender, identity, configuration set, the MHP_MAIL_* settings and the DNS records the mail domain needs; null without mail_domain."
  value       = module.platform.mail
}
