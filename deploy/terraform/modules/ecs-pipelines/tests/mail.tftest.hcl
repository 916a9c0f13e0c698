# E-mail through Amazon SES (deploy/README.md, "E-mail"): the workers (and the scheduled jobs,
# which run in the worker container) send as the app does, and the worker role may send only
# through the environment's identity and configuration set, only as the one sender.
mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn                  = "arn:aws:ecs:us-east-1:123456789012:task-definition/mhp-test-worker:1"
      arn_without_revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/mhp-test-worker"
    }
  }
}

variables {
  name                = "mhp-test"
  image               = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  cluster_arn         = "arn:aws:ecs:us-east-1:123456789012:cluster/mhp-test"
  vpc_id              = "vpc-0123456789abcdef0"
  vpc_cidr            = "10.40.0.0/16"
  private_subnet_ids  = ["subnet-a", "subnet-b"]
  kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/data"
  app_kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/app"
  secrets_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  secret_env          = { DATABASE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/database-url", MHP_KEYS_STORE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/key-store-url" }
  data_bucket_arn     = "arn:aws:s3:::mhp-test-123456789012-data"
  log_group_name      = "/mhp/mhp-test/worker"
  mail = {
    from                   = "MHP <no-reply@mail.example.org>"
    from_address           = "no-reply@mail.example.org"
    identity_arn           = "arn:aws:ses:us-east-1:123456789012:identity/mail.example.org"
    configuration_set_name = "mhp-test"
    configuration_set_arn  = "arn:aws:ses:us-east-1:123456789012:configuration-set/mhp-test"
  }
}

run "workers_send_mail_through_ses" {
  command = plan

  assert {
    condition = alltrue([for c in jsondecode(aws_ecs_task_definition.worker.container_definitions) : alltrue([
      contains(c.environment, { name = "MHP_MAIL_TRANSPORT", value = "ses" }),
      contains(c.environment, { name = "MHP_MAIL_FROM", value = "MHP <no-reply@mail.example.org>" }),
      contains(c.environment, { name = "MHP_MAIL_SES_CONFIGURATION_SET", value = "mhp-test" }),
      contains(c.environment, { name = "MHP_AWS_REGION", value = "us-east-1" }),
    ])])
    error_message = "the worker and its migrate container send through SES as the sender, with the configuration set, in the task's region"
  }
}

run "the_worker_role_sends_only_as_the_sender_through_the_identity_and_configuration_set" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.worker.statement : s if anytrue([for a in coalesce(s.actions, toset([])) : startswith(lower(a), "ses:")])]) == 1
    error_message = "one statement of the worker role names SES actions"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.worker.statement : alltrue([
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
    condition     = length([for e in jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment : e if startswith(e.name, "MHP_MAIL_")]) == 0
    error_message = "without modules/mail the workers keep MHP's default transport (no MHP_MAIL_* setting)"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.worker.statement : s if anytrue([for a in coalesce(s.actions, toset([])) : startswith(lower(a), "ses:")])]) == 0
    error_message = "and the worker role may not send through SES"
  }
}
