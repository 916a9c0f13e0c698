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
    condition     = alltrue([for s in data.aws_iam_policy_document.deploy_iam.statement : alltrue([for r in s.resources : strcontains(r, ":role/mhp-") || strcontains(r, ":instance-profile/mhp-") || strcontains(r, "aws-service-role")])])
    error_message = "IAM rights only on MHP's own roles"
  }
  assert {
    condition     = keys(aws_iam_role_policy_attachment.deploy_power_user) == ["prod-use1"] && keys(aws_iam_role_policy_attachment.plan_read_only) == ["prod-use1-plan"]
    error_message = "only the apply role may change things; the plan role is read-only"
  }
  assert {
    condition     = aws_iam_role.deploy["prod-use1"].max_session_duration == 3600
    error_message = "sessions last at most an hour"
  }
}

run "repository_is_validated" {
  command = plan
  variables {
    repository = "not a repo"
  }
  expect_failures = [var.repository]
}
