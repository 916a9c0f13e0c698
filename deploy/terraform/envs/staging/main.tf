locals {
  environment = "staging"
  tags = {
    "mhp:managed-by" = "terraform"
    "mhp:root"       = "deploy/terraform/envs/staging"
  }
}

module "platform" {
  source = "../../modules/platform"
  providers = {
    aws      = aws
    aws.copy = aws.copy
  }

  environment                = local.environment
  flavour                    = "non-production"
  image                      = var.image
  public_host                = var.public_host
  certificate_arn            = var.certificate_arn
  vpc_cidr                   = "10.20.0.0/16"
  alarm_emails               = var.alarm_emails
  security_alert_emails      = var.security_alert_emails
  security_baseline          = var.security_baseline
  hipaa_pack_template_s3_uri = var.hipaa_pack_template_s3_uri
  tags                       = local.tags

  # E-mail through Amazon SES (deploy/README.md "E-mail"); none without mail_domain.
  mail_domain         = var.mail_domain
  mail_from           = var.mail_from
  mail_hosted_zone_id = var.mail_hosted_zone_id

  # MHP's master key moved to the multi-Region app key beside a single-Region one
  # (deploy/README.md "Multi-Region keys: the migration"); false: as applied.
  app_key_moved_to_multi_region = var.app_key_moved_to_multi_region

  # The boundary deploy/terraform/bootstrap made for this environment: the deploy role may
  # create roles only with it.
  permissions_boundary_arn = "arn:aws:iam::${var.allowed_account_ids[0]}:policy/mhp-${local.environment}-boundary"
}
