# E-mail through Amazon SES (deploy/README.md, "E-mail"): with mail_domain, every MHP container
# of the app's and the workers' tasks is told to send through SES as the sender with the
# environment's configuration set, in the task's region, and SES publishes bounces and complaints
# to the alarm topic; without it (or with the empty value an unset GitHub variable gives), nothing
# of SES is planned and the tasks keep MHP's default transport.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
  mock_resource "aws_sesv2_email_identity" {
    defaults = {
      arn                     = "arn:aws:ses:us-east-1:123456789012:identity/mail.example.org"
      dkim_signing_attributes = { tokens = ["tokena", "tokenb", "tokenc"] }
    }
  }
  mock_resource "aws_sesv2_configuration_set" {
    defaults = { arn = "arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-prod-use1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mhp-prod-use1-alarms" }
  }
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/mocks-copy"
}

run "production_sends_mail_through_ses_from_every_task" {
  command = plan
  variables {
    environment         = "prod-use1"
    flavour             = "production"
    mail_domain         = "mail.example.org"
    mail_hosted_zone_id = "Z0123456789MAIL"
  }

  assert {
    condition = alltrue([for t in ["app", "worker"] : alltrue([
      output.task_environments[t]["MHP_MAIL_TRANSPORT"] == "ses",
      output.task_environments[t]["MHP_MAIL_FROM"] == "MHP <no-reply@mail.example.org>",
      output.task_environments[t]["MHP_MAIL_SES_CONFIGURATION_SET"] == "mhp-prod-use1",
      output.task_environments[t]["MHP_AWS_REGION"] == "us-east-1",
    ])])
    error_message = "the app's and the workers' tasks send through SES as MHP <no-reply@mail_domain> with the environment's configuration set, in their region"
  }
  assert {
    condition     = output.mail.settings == { for k in ["MHP_MAIL_TRANSPORT", "MHP_MAIL_FROM", "MHP_MAIL_SES_CONFIGURATION_SET"] : k => output.task_environments.app[k] }
    error_message = "the tasks get exactly modules/mail's settings"
  }
  assert {
    condition     = output.mail.controls.tls_policy == "REQUIRE" && output.mail.controls.event_topic_arn == output.alarm_topic_arn && output.mail.controls.event_types == tolist(["BOUNCE", "COMPLAINT"])
    error_message = "mail goes out over TLS only; bounces and complaints reach the alarm topic"
  }
  assert {
    condition     = module.observability.alarm_topic_ses_configuration_sets == tolist(["arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-prod-use1"])
    error_message = "the alarm topic lets SES publish for this configuration set"
  }
  assert {
    condition     = output.mail.controls.dkim_records == 3 && output.mail.controls.mail_from_domain == "bounce.mail.example.org"
    error_message = "with the domain's zone, the DKIM records and the MAIL FROM domain are made"
  }
}

run "an_empty_mail_domain_means_no_ses" {
  command = plan
  variables {
    environment         = "staging"
    flavour             = "non-production"
    mail_domain         = "" # TF_VAR_mail_domain from an unset GitHub variable
    mail_hosted_zone_id = ""
  }

  assert {
    condition     = output.mail == null && length(module.mail) == 0
    error_message = "no SES identity without a mail domain"
  }
  assert {
    condition = alltrue([for t in ["app", "worker"] :
      length([for k, v in output.task_environments[t] : k if startswith(k, "MHP_MAIL_")]) == 0
    ])
    error_message = "without a mail domain no task is given an MHP_MAIL_* setting (MHP's default transport)"
  }
  assert {
    condition     = length(module.observability.alarm_topic_ses_configuration_sets) == 0
    error_message = "and SES may not publish to the alarm topic"
  }
}

run "a_mail_domain_that_is_not_a_dns_name_is_refused" {
  command = plan
  variables {
    environment = "staging"
    flavour     = "non-production"
    mail_domain = "no-reply@mail.example.org"
  }
  expect_failures = [var.mail_domain]
}
