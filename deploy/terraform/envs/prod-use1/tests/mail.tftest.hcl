# Production must deliver its mail (deploy/README.md, "E-mail"): this root refuses to plan without
# a mail domain, whether TF_VAR_mail_domain is missing or empty (an unset GitHub variable), and
# with one it gives the platform's tasks SES. Run by scripts/check-deploy.sh (terraform-test)
# against a mock AWS.

mock_provider "aws" {
  override_during = plan
  source          = "../../modules/platform/tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "../../modules/platform/tests/mocks-copy"
}

variables {
  allowed_account_ids   = ["123456789012"]
  image                 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  public_host           = "mhp.example.org"
  certificate_arn       = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  wazuh_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
}

run "production_refuses_an_empty_mail_domain" {
  command = plan
  variables {
    mail_domain = ""
  }
  expect_failures = [var.mail_domain]
}

run "production_refuses_no_mail_domain" {
  command         = plan
  expect_failures = [var.mail_domain]
}

run "production_with_its_mail_domain_sends_through_ses" {
  command = plan
  variables {
    mail_domain = "mail.example.org"
    mail_from   = "MHP <alerts@mail.example.org>"
  }

  assert {
    condition     = output.mail.settings["MHP_MAIL_TRANSPORT"] == "ses" && output.mail.settings["MHP_MAIL_FROM"] == "MHP <alerts@mail.example.org>" && output.mail.configuration_set == "mhp-prod-use1"
    error_message = "the root hands its mail domain and sender to the platform, whose tasks send through SES"
  }
}
