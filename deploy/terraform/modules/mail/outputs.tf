output "sending" {
  description = "What a task needs to send through SES, for modules/ecs-app and modules/ecs-pipelines (variable mail): the sender (MHP_MAIL_FROM), its bare address (the ses:FromAddress condition), the identity and the configuration set."
  value = {
    from                   = local.from
    from_address           = local.from_address
    identity_arn           = aws_sesv2_email_identity.this.arn
    configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
    configuration_set_arn  = aws_sesv2_configuration_set.this.arn
  }
}

output "settings" {
  description = "The MHP settings of SES sending (MHP_MAIL_*), as modules/ecs-app and modules/ecs-pipelines give them to the tasks."
  value = {
    MHP_MAIL_TRANSPORT             = "ses"
    MHP_MAIL_FROM                  = local.from
    MHP_MAIL_SES_CONFIGURATION_SET = aws_sesv2_configuration_set.this.configuration_set_name
  }
}

output "configuration_set_arn" {
  description = "The configuration set (the alarm topic's policy lets SES publish its events)."
  value       = aws_sesv2_configuration_set.this.arn
}

output "identity_arn" {
  description = "The domain identity."
  value       = aws_sesv2_email_identity.this.arn
}

output "dns_records" {
  description = "The records the domain needs (made in hosted_zone_id when given; else publish them where the domain's DNS is): three DKIM CNAMEs, and with the zone the MAIL FROM domain's MX and SPF."
  value = concat(
    [for t in aws_sesv2_email_identity.this.dkim_signing_attributes[0].tokens : {
      name = "${t}._domainkey.${var.domain}", type = "CNAME", value = "${t}.dkim.amazonses.com"
    }],
    local.zone ? [
      { name = local.mail_from, type = "MX", value = local.feedback_mx },
      { name = local.mail_from, type = "TXT", value = local.spf },
    ] : [],
  )
}

output "controls" {
  description = "The configuration set's and identity's settings as planned (asserted by the tests)."
  value = {
    tls_policy         = one(aws_sesv2_configuration_set.this.delivery_options[*].tls_policy)
    reputation_metrics = one(aws_sesv2_configuration_set.this.reputation_options[*].reputation_metrics_enabled)
    suppressed_reasons = sort(one(aws_sesv2_configuration_set.this.suppression_options[*].suppressed_reasons))
    event_types        = sort(aws_sesv2_configuration_set_event_destination.bounces_and_complaints.event_destination[0].matching_event_types)
    event_topic_arn    = aws_sesv2_configuration_set_event_destination.bounces_and_complaints.event_destination[0].sns_destination[0].topic_arn
    dkim_records       = length(aws_route53_record.dkim)
    mail_from_domain   = one(aws_sesv2_email_identity_mail_from_attributes.this[*].mail_from_domain)
  }
}
