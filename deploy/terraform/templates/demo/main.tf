module "platform" {
  source = "../../modules/platform"
  providers = {
    aws      = aws
    aws.copy = aws.copy
  }

  environment     = var.name
  flavour         = var.flavour
  image           = var.image
  public_host     = var.public_host
  certificate_arn = var.certificate_arn
  vpc_cidr        = var.vpc_cidr
  alarm_emails    = var.alarm_emails
  # A demonstration account usually already has its baseline (from a first demo or its landing
  # zone); set true for the first environment of an account and region.
  security_baseline = var.security_baseline
  tags              = local.tags

  # The account's boundary for this environment, when the bootstrap made one (environments
  # listed in its `environments`); null for a workstation apply without one.
  permissions_boundary_arn = var.permissions_boundary_arn

  # Route 53 failover of public_host when its hosted zone is given (MHP_HOSTED_ZONE_ID).
  hosted_zone_id = var.hosted_zone_id

  # --production: the network kept in the recovery region (Aurora secondary). MHP_RECOVERY_OF:
  # this environment recovers that production environment in its recovery region, on what it
  # left there (docs/runbooks/restore-to-new-region.md B).
  recovery_vpc_cidr = var.recovery_vpc_cidr
  recovery_of       = var.recovery_of
  # MHP_STANDBY_APP_COUNT: a recovery environment applied ahead of a disaster stands by (0: pilot
  # light, 1+: warm standby) until runbook B scales it up; null (`serving`) once it serves.
  standby_app_count = var.standby_app_count

  # TF_VAR_app_key_moved_to_multi_region: MHP's master key moved to the multi-Region app key
  # beside a single-Region one (deploy/README.md "Multi-Region keys: the migration").
  app_key_moved_to_multi_region = var.app_key_moved_to_multi_region

  # E-mail through Amazon SES when TF_VAR_mail_domain is given (deploy/README.md "E-mail").
  mail_domain         = var.mail_domain
  mail_from           = var.mail_from
  mail_hosted_zone_id = var.mail_hosted_zone_id
}
