# E-mail through Amazon SES (invitations, password resets, alerts): a domain identity with Easy
# DKIM (2048-bit keys) whose default configuration set requires TLS to the receiving server,
# keeps reputation metrics and suppresses addresses that bounced or complained; bounce and
# complaint events to the alarm topic; with the domain's Route 53 zone, the DKIM records and a
# custom MAIL FROM domain (MX, SPF). The tasks get the settings (output settings: MHP_MAIL_*)
# and the right to send as the one sender through this identity and configuration set
# (output sending; the statements are in modules/ecs-app and modules/ecs-pipelines).
#
# Not here: leaving the SES sandbox (an account-level request to AWS, first-deployment
# runbook), DMARC (a policy of the organisation's domain), receiving mail.

data "aws_region" "current" {}

locals {
  from = var.from == null || trimspace(coalesce(var.from, " ")) == "" ? "MHP <no-reply@${var.domain}>" : trimspace(var.from)
  # The bare address, as the tasks send it (ses:FromAddress compares it exactly).
  from_address = can(regex("<([^<>]+)>$", local.from)) ? regex("<([^<>]+)>$", local.from)[0] : local.from
  zone         = var.hosted_zone_id != null
  mail_from    = "${var.mail_from_subdomain}.${var.domain}"
  # SES's feedback endpoint of the region receives the bounces sent to the MAIL FROM domain.
  feedback_mx = "10 feedback-smtp.${data.aws_region.current.name}.amazonses.com"
  spf         = "v=spf1 include:amazonses.com ~all"
}

resource "aws_sesv2_configuration_set" "this" {
  configuration_set_name = var.name
  tags                   = var.tags

  # Messages go only over TLS to the receiving server: SES refuses to deliver in clear.
  delivery_options {
    tls_policy = "REQUIRE"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  # An address that bounced or complained is not written to again (per configuration set, over
  # the account-level list).
  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }
}

resource "aws_sesv2_email_identity" "this" {
  email_identity = var.domain
  # Default configuration set: TLS, suppression and events apply even to a message sent without
  # naming it.
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  tags                   = var.tags

  # Easy DKIM: SES makes and rotates the key; the three CNAME records below publish it.
  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

# Bounces and complaints reach the operators through the alarm topic.
resource "aws_sesv2_configuration_set_event_destination" "bounces_and_complaints" {
  configuration_set_name = aws_sesv2_configuration_set.this.configuration_set_name
  event_destination_name = "bounces-and-complaints"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]
    sns_destination {
      topic_arn = var.event_topic_arn
    }
  }
}

# --- DNS, when the environment names the domain's hosted zone -----------------------------------

resource "aws_route53_record" "dkim" {
  count = local.zone ? 3 : 0 # Easy DKIM always gives three tokens

  zone_id = var.hosted_zone_id
  name    = "${aws_sesv2_email_identity.this.dkim_signing_attributes[0].tokens[count.index]}._domainkey.${var.domain}"
  type    = "CNAME"
  ttl     = 1800
  records = ["${aws_sesv2_email_identity.this.dkim_signing_attributes[0].tokens[count.index]}.dkim.amazonses.com"]
}

# Custom MAIL FROM domain: bounces come back to SES under the organisation's domain and SPF
# aligns with it (DMARC). Without its MX record SES falls back to amazonses.com.
resource "aws_sesv2_email_identity_mail_from_attributes" "this" {
  count = local.zone ? 1 : 0

  email_identity         = aws_sesv2_email_identity.this.email_identity
  mail_from_domain       = local.mail_from
  behavior_on_mx_failure = "USE_DEFAULT_VALUE"
}

resource "aws_route53_record" "mail_from_mx" {
  count = local.zone ? 1 : 0

  zone_id = var.hosted_zone_id
  name    = local.mail_from
  type    = "MX"
  ttl     = 1800
  records = [local.feedback_mx]
}

resource "aws_route53_record" "mail_from_spf" {
  count = local.zone ? 1 : 0

  zone_id = var.hosted_zone_id
  name    = local.mail_from
  type    = "TXT"
  ttl     = 1800
  records = [local.spf]
}
