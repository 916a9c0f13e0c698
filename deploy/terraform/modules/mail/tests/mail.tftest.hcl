# E-mail through Amazon SES (deploy/README.md, "E-mail"): a DKIM-signed domain identity whose
# configuration set requires TLS, keeps reputation metrics and suppresses bounced and
# complaining addresses; bounces and complaints reach the alarm topic; with the domain's zone,
# the DKIM records and the MAIL FROM domain are made.

mock_provider "aws" {
  override_during = plan
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_resource "aws_sesv2_email_identity" {
    defaults = {
      arn = "arn:aws:ses:us-east-1:123456789012:identity/mail.example.org"
      # Applied to each dkim_signing_attributes block.
      dkim_signing_attributes = { tokens = ["tokena", "tokenb", "tokenc"] }
    }
  }
  mock_resource "aws_sesv2_configuration_set" {
    defaults = { arn = "arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-test" }
  }
}

variables {
  name            = "mhp-test"
  domain          = "mail.example.org"
  event_topic_arn = "arn:aws:sns:us-east-1:123456789012:mhp-test-alarms"
}

run "a_dkim_identity_sending_only_over_tls" {
  command = plan

  assert {
    condition     = aws_sesv2_email_identity.this.email_identity == "mail.example.org" && aws_sesv2_email_identity.this.dkim_signing_attributes[0].next_signing_key_length == "RSA_2048_BIT" && aws_sesv2_email_identity.this.dkim_signing_attributes[0].domain_signing_private_key == null
    error_message = "the domain is an SES identity with Easy DKIM (SES's own 2048-bit key, no key of ours)"
  }
  assert {
    condition     = aws_sesv2_email_identity.this.configuration_set_name == "mhp-test"
    error_message = "the identity's default configuration set is the environment's: its policies apply to every message"
  }
  assert {
    condition     = output.controls.tls_policy == "REQUIRE" && output.controls.reputation_metrics && output.controls.suppressed_reasons == tolist(["BOUNCE", "COMPLAINT"])
    error_message = "the configuration set requires TLS, keeps reputation metrics and suppresses bounces and complaints"
  }
  assert {
    condition     = output.controls.event_types == tolist(["BOUNCE", "COMPLAINT"]) && output.controls.event_topic_arn == var.event_topic_arn && aws_sesv2_configuration_set_event_destination.bounces_and_complaints.event_destination[0].enabled
    error_message = "bounces and complaints are published to the alarm topic"
  }
  assert {
    condition = output.settings == {
      MHP_MAIL_TRANSPORT             = "ses"
      MHP_MAIL_FROM                  = "MHP <no-reply@mail.example.org>"
      MHP_MAIL_SES_CONFIGURATION_SET = "mhp-test"
    }
    error_message = "the tasks are told to send through SES as MHP <no-reply@DOMAIN> with the configuration set"
  }
  assert {
    condition     = output.sending.from_address == "no-reply@mail.example.org" && output.sending.identity_arn == "arn:aws:ses:us-east-1:123456789012:identity/mail.example.org" && output.sending.configuration_set_arn == "arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-test"
    error_message = "the sender's bare address, the identity and the configuration set are given to the task roles' statements"
  }
}

run "no_dns_without_the_domains_zone" {
  command = plan

  assert {
    condition     = length(aws_route53_record.dkim) == 0 && length(aws_route53_record.mail_from_mx) == 0 && length(aws_route53_record.mail_from_spf) == 0 && output.controls.mail_from_domain == null
    error_message = "without the hosted zone no record and no MAIL FROM domain is made"
  }
  assert {
    condition     = [for r in output.dns_records : r.type] == ["CNAME", "CNAME", "CNAME"]
    error_message = "the DKIM records to publish elsewhere are given"
  }
}

run "dkim_and_mail_from_records_in_the_domains_zone" {
  command = plan
  variables {
    hosted_zone_id = "Z0123456789MAIL"
  }

  assert {
    condition = alltrue([for i, r in aws_route53_record.dkim : r.zone_id == "Z0123456789MAIL" && r.type == "CNAME" &&
      r.name == "${["tokena", "tokenb", "tokenc"][i]}._domainkey.mail.example.org" &&
    r.records == toset(["${["tokena", "tokenb", "tokenc"][i]}.dkim.amazonses.com"])]) && length(aws_route53_record.dkim) == 3
    error_message = "the three DKIM CNAME records point at SES's keys"
  }
  assert {
    condition     = aws_sesv2_email_identity_mail_from_attributes.this[0].mail_from_domain == "bounce.mail.example.org" && aws_sesv2_email_identity_mail_from_attributes.this[0].behavior_on_mx_failure == "USE_DEFAULT_VALUE"
    error_message = "a custom MAIL FROM domain under the identity's domain"
  }
  assert {
    condition     = aws_route53_record.mail_from_mx[0].name == "bounce.mail.example.org" && aws_route53_record.mail_from_mx[0].records == toset(["10 feedback-smtp.us-east-1.amazonses.com"])
    error_message = "the MAIL FROM domain's MX is SES's feedback endpoint of the region"
  }
  assert {
    condition     = aws_route53_record.mail_from_spf[0].type == "TXT" && aws_route53_record.mail_from_spf[0].records == toset(["v=spf1 include:amazonses.com ~all"])
    error_message = "the MAIL FROM domain's SPF record names SES"
  }
}

run "a_named_sender_at_the_domain" {
  command = plan
  variables {
    from = "Alpha Rugby MHP <Alerts@mail.example.org>"
  }

  assert {
    condition     = output.settings.MHP_MAIL_FROM == "Alpha Rugby MHP <Alerts@mail.example.org>" && output.sending.from_address == "Alerts@mail.example.org"
    error_message = "the display name is kept; the bare address, as sent, is the condition's"
  }
}

run "a_bare_sender_at_the_domain" {
  command = plan
  variables {
    from = "alerts@mail.example.org"
  }

  assert {
    condition     = output.settings.MHP_MAIL_FROM == "alerts@mail.example.org" && output.sending.from_address == "alerts@mail.example.org"
    error_message = "a bare address is the sender and the condition's address"
  }
}


run "a_sender_at_another_domain_is_refused" {
  command = plan
  variables {
    from = "MHP <no-reply@example.com>"
  }
  expect_failures = [var.from]
}

run "a_domain_that_is_not_a_dns_name_is_refused" {
  command = plan
  variables {
    domain = "https://mail.example.org/"
  }
  expect_failures = [var.domain]
}
