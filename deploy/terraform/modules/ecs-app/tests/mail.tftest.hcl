# E-mail through Amazon SES (deploy/README.md, "E-mail"): with modules/mail's sending, the app's
# containers are told to send through SES as the one sender with the configuration set, and the
# task role may send only through that identity and configuration set, only as that sender;
# without it, neither setting nor right (MHP's default transport: the outbox directory).
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

variables {
  mail = {
    from                   = "MHP <no-reply@mail.example.org>"
    from_address           = "no-reply@mail.example.org"
    identity_arn           = "arn:aws:ses:us-east-1:123456789012:identity/mail.example.org"
    configuration_set_name = "mhp-test"
    configuration_set_arn  = "arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-test"
  }
}

run "the_app_sends_mail_through_ses" {
  command = plan

  assert {
    condition = alltrue([for c in jsondecode(aws_ecs_task_definition.app.container_definitions) : alltrue([
      contains(c.environment, { name = "MHP_MAIL_TRANSPORT", value = "ses" }),
      contains(c.environment, { name = "MHP_MAIL_FROM", value = "MHP <no-reply@mail.example.org>" }),
      contains(c.environment, { name = "MHP_MAIL_SES_CONFIGURATION_SET", value = "mhp-test" }),
    ]) if contains(["mhp", "migrate"], c.name)])
    error_message = "both MHP containers of the app's task send through SES as the sender, with the configuration set"
  }
  assert {
    condition     = output.container_environment["MHP_MAIL_TRANSPORT"] == "ses" && output.container_environment["MHP_AWS_REGION"] == "us-east-1"
    error_message = "SES is called in the task's region (aws.region)"
  }
}

run "the_task_role_sends_only_as_the_sender_through_the_identity_and_configuration_set" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.app.statement : s if anytrue([for a in coalesce(s.actions, toset([])) : startswith(lower(a), "ses:")])]) == 1
    error_message = "one statement of the task role names SES actions"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.app.statement : alltrue([
      s.sid == "SendMailThroughSes",
      s.effect == null || s.effect == "Allow",
      s.actions == toset(["ses:SendEmail", "ses:SendRawEmail"]),
      s.not_actions == null && s.not_resources == null,
      s.resources == toset([var.mail.identity_arn, var.mail.configuration_set_arn]),
      length(s.condition) == 1,
      one(s.condition).test == "StringEquals" && one(s.condition).variable == "ses:FromAddress" && one(s.condition).values == tolist(["no-reply@mail.example.org"]),
    ]) if anytrue([for a in coalesce(s.actions, toset([])) : startswith(lower(a), "ses:")])])
    error_message = "ses:SendEmail and ses:SendRawEmail only, on the identity and the configuration set only, only with ses:FromAddress = the sender's address"
  }
}

run "no_ses_without_a_mail_domain" {
  command = plan
  variables {
    mail = null
  }

  assert {
    condition     = length([for e in jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment : e if startswith(e.name, "MHP_MAIL_")]) == 0
    error_message = "without modules/mail the app keeps MHP's default transport (no MHP_MAIL_* setting)"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.app.statement : s if anytrue([for a in coalesce(s.actions, toset([])) : startswith(lower(a), "ses:")])]) == 0
    error_message = "and its role may not send through SES"
  }
}
