mock_provider "aws" {
  override_during = plan
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  repository          = "mhp-org/mhp"
  environments        = ["prod-use1", "prod-use1-plan"]
  regions             = ["us-east-1", "us-west-1"]
  ecr_repository_arns = ["arn:aws:ecr:us-east-1:123456789012:repository/mhp"]
}

run "roles_are_bound_to_repository_and_environment" {
  command = plan

  assert {
    condition     = flatten([for c in data.aws_iam_policy_document.deploy_trust["prod-use1"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]) == ["repo:mhp-org/mhp:environment:prod-use1"]
    error_message = "the deploy role trusts only this repository's jobs in that GitHub environment"
  }
  assert {
    condition     = flatten([for c in data.aws_iam_policy_document.deploy_trust["prod-use1"].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:aud"]) == ["sts.amazonaws.com"]
    error_message = "the token audience is STS"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.deploy_iam["prod-use1"].statement : s.effect == "Deny" || alltrue([for r in s.resources : startswith(r, "arn:aws:iam::123456789012:role/mhp-prod-use1-") || startswith(r, "arn:aws:iam::123456789012:instance-profile/mhp-prod-use1-") || startswith(r, "arn:aws:iam::123456789012:role/aws-service-role/")])])
    error_message = "IAM rights only on this environment's own roles and instance profiles (mhp-<env>-*)"
  }
  assert {
    condition     = keys(aws_iam_role_policy.deploy_iam) == ["prod-use1"] && keys(aws_iam_role_policy.deploy_services) == ["prod-use1"] && keys(aws_iam_role_policy.plan) == ["prod-use1-plan"]
    error_message = "only the apply role may change things; the plan role is read-only"
  }
  assert {
    condition     = aws_iam_role.deploy["prod-use1"].max_session_duration == 3600
    error_message = "sessions last at most an hour"
  }
  assert {
    condition     = keys(aws_iam_policy.boundary) == ["prod-use1"] && aws_iam_policy.boundary["prod-use1"].name == "mhp-prod-use1-boundary"
    error_message = "one boundary per environment the account deploys, named mhp-<env>-boundary"
  }
}

run "repository_is_validated" {
  command = plan
  variables {
    repository = "not a repo"
  }
  expect_failures = [var.repository]
}

run "pass_role_services_take_no_wildcard" {
  command = plan
  variables {
    pass_role_services = ["*"]
  }
  expect_failures = [var.pass_role_services]
}

run "only_protected_refs" {
  command = plan
  variables {
    protected_refs = ["refs/heads/*"]
  }
  expect_failures = [var.protected_refs]
}

# E-mail (modules/mail): the boundary of the environment's roles lets the tasks send through SES
# (their own policies narrow it to the identity, the configuration set and the sender) and
# nothing else of SES; the deploy role may manage SES (deploy_actions.json) in the environment's
# regions.
run "tasks_may_send_mail_within_the_boundary" {
  command = plan

  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.boundary["prod-use1"].statement :
      [for a in s.actions : a if startswith(lower(a), "ses:") && !can(regex("^ses:(Describe|Get|List)\\*$", a))] if s.effect != "Deny"
    ])) == toset(["ses:SendEmail", "ses:SendRawEmail"])
    error_message = "the boundary allows SES sending (ses:SendEmail, ses:SendRawEmail) and no other SES write"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.deploy_regional["prod-use1/ops"].statement :
      length(setsubtract(["ses:CreateEmailIdentity", "ses:CreateConfigurationSet", "ses:CreateConfigurationSetEventDestination"], s.actions)) == 0 && !contains(s.actions, "ses:*") &&
      anytrue([for c in s.condition : c.variable == "aws:RequestedRegion" && toset(c.values) == toset(["us-east-1", "us-west-1"])])
    ])
    error_message = "the deploy role manages SES (identity, configuration set, event destination) in the environment's regions only, action by action"
  }
}
