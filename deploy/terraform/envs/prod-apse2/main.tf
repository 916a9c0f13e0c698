locals {
  environment = "prod-apse2"
  tags = {
    "mhp:managed-by" = "terraform"
    "mhp:root"       = "deploy/terraform/envs/prod-apse2"
  }
}

module "platform" {
  source = "../../modules/platform"
  providers = {
    aws      = aws
    aws.copy = aws.copy
  }

  environment                = local.environment
  flavour                    = "production"
  image                      = var.image
  public_host                = var.public_host
  certificate_arn            = var.certificate_arn
  vpc_cidr                   = "10.32.0.0/16"
  alarm_emails               = var.alarm_emails
  security_alert_emails      = var.security_alert_emails
  security_baseline          = var.security_baseline
  hipaa_pack_template_s3_uri = var.hipaa_pack_template_s3_uri
  tags                       = local.tags

  # E-mail through Amazon SES (deploy/README.md "E-mail"); required here (variables.tf).
  mail_domain         = var.mail_domain
  mail_from           = var.mail_from
  mail_hosted_zone_id = var.mail_hosted_zone_id

  # Recovery (deploy/README.md "RTO and RPO"): the recovery region is the copy provider's region,
  # where the network of the Aurora secondary and of a recovery environment has this CIDR;
  # Route 53 failover of public_host when its hosted zone is given.
  recovery_vpc_cidr  = "10.132.0.0/16"
  hosted_zone_id     = var.hosted_zone_id
  failover_secondary = var.failover_secondary

  # A Wazuh manager in the VPC receiving every security event by syslog over TLS (deploy/README.md
  # "Wazuh manager"); its ACM certificate names wazuh.<public_host>.
  wazuh_enabled         = true
  wazuh_certificate_arn = var.wazuh_certificate_arn

  # MHP's master key moved to the multi-Region app key beside a single-Region one
  # (deploy/README.md "Multi-Region keys: the migration"); false: as applied.
  app_key_moved_to_multi_region = var.app_key_moved_to_multi_region

  # The boundary deploy/terraform/bootstrap made for this environment: the deploy role may
  # create roles only with it.
  permissions_boundary_arn = "arn:aws:iam::${var.allowed_account_ids[0]}:policy/mhp-${local.environment}-boundary"
}
