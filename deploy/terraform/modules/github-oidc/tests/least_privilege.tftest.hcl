# The path to admin stays closed (deploy/README.md, "CI/CD: least privilege"). Each assertion
# fails if a defect of the old deploy role comes back: PowerUserAccess (or any broad managed
# policy); iam:CreateRole / PutRolePolicy / AttachRolePolicy / ... without the
# iam:PermissionsBoundary condition; iam:PassRole to any service or any role; a boundary that
# allows IAM writes or can be removed; a plan (or deploy, or release) role that any branch can
# assume.

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
  environments        = ["prod-use1", "prod-use1-plan", "staging", "staging-plan"]
  regions             = ["us-east-1", "us-west-1"]
  ecr_repository_arns = ["arn:aws:ecr:us-east-1:123456789012:repository/mhp"]
}

run "no_broad_managed_policy" {
  command = plan

  assert {
    condition     = length([for k, a in aws_iam_role_policy_attachment.managed : k if can(regex("(PowerUserAccess|AdministratorAccess|IAMFullAccess)$", a.policy_arn))]) == 0
    error_message = "PowerUserAccess, AdministratorAccess or IAMFullAccess is attached to a CI role"
  }
  assert {
    condition     = alltrue([for k, a in aws_iam_role_policy_attachment.managed : a.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"])
    error_message = "the CI roles' only managed policy is ReadOnlyAccess"
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy_attachment.managed)) == toset(["prod-use1/ReadOnlyAccess", "prod-use1-plan/ReadOnlyAccess", "staging/ReadOnlyAccess", "staging-plan/ReadOnlyAccess"])
    error_message = "a managed policy was added to a CI role"
  }
  assert {
    condition = toset([for k, a in aws_iam_role_policy_attachment.deploy_regional : "${a.role}:${aws_iam_policy.deploy_regional[k].name}"]) == toset([
      "mhp-deploy-prod-use1:mhp-deploy-prod-use1-infra", "mhp-deploy-prod-use1:mhp-deploy-prod-use1-ops",
      "mhp-deploy-staging:mhp-deploy-staging-infra", "mhp-deploy-staging:mhp-deploy-staging-ops",
    ])
    error_message = "besides ReadOnlyAccess, an apply role has only its own deploy_actions.json policies (mhp-deploy-<env>-infra and -ops); a plan role none"
  }
}

run "role_permissions_only_with_the_boundary" {
  command = plan

  # Every allow that grants a permission-giving IAM action (directly or through a wildcard, or a
  # NotAction allow) carries iam:PermissionsBoundary = that environment's boundary.
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for d in [data.aws_iam_policy_document.deploy_iam[e], data.aws_iam_policy_document.deploy_services[e], data.aws_iam_policy_document.deploy_regional["${e}/infra"], data.aws_iam_policy_document.deploy_regional["${e}/ops"], data.aws_iam_policy_document.read_guard] : [
        for s in d.statement : s.effect == "Deny" || (
          (s.not_actions == null ? 0 : length(s.not_actions)) == 0 &&
          (!anytrue([for a in(s.actions != null ? s.actions : toset([])) : anytrue([for g in ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"] : lower(a) == lower(g) || a == "*" || (endswith(a, "*") && startswith(lower(g), lower(trimsuffix(a, "*"))))])]) ||
          anytrue([for c in(s.condition != null ? s.condition : toset([])) : c.test == "StringEquals" && c.variable == "iam:PermissionsBoundary" && length(c.values) == 1 && contains(c.values, "arn:aws:iam::123456789012:policy/mhp-${e}-boundary")]))
        )
      ]
    ]]))
    error_message = "an allow grants iam:CreateRole/PutRolePolicy/AttachRolePolicy/... without the condition iam:PermissionsBoundary = mhp-<env>-boundary"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "staging"] : anytrue([
      for s in data.aws_iam_policy_document.deploy_iam[e].statement : s.effect == "Deny" && contains(s.actions, "iam:CreateRole") && contains(s.actions, "iam:PutRolePolicy") && contains(s.actions, "iam:AttachRolePolicy") && contains(s.resources, "*") &&
      anytrue([for c in s.condition : c.test == "StringNotEquals" && c.variable == "iam:PermissionsBoundary" && contains(c.values, "arn:aws:iam::123456789012:policy/mhp-${e}-boundary")])
    ])])
    error_message = "an explicit deny of role changes without the boundary is missing"
  }
  assert {
    condition     = alltrue([for e in ["prod-use1", "staging"] : anytrue([for s in data.aws_iam_policy_document.deploy_iam[e].statement : s.effect == "Deny" && contains(s.actions, "iam:DeleteRolePermissionsBoundary") && contains(s.resources, "*")])])
    error_message = "the deploy role must be denied removing a permissions boundary"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "staging"] : anytrue([
      for s in data.aws_iam_policy_document.deploy_iam[e].statement : s.effect == "Deny" && length(setsubtract(["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"], s.actions)) == 0 &&
      anytrue([for r in s.resources : length(regexall("^${replace(replace(r, ".", "\\."), "*", ".*")}$", "arn:aws:iam::123456789012:policy/${aws_iam_policy.boundary[e].name}")) > 0])
    ])])
    error_message = "the deploy role must be denied changing or deleting the boundary policy"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "staging"] : anytrue([
      for s in data.aws_iam_policy_document.deploy_iam[e].statement : s.effect == "Deny" && contains(s.resources, "arn:aws:iam::123456789012:role/mhp-deploy-*") && contains(s.resources, "arn:aws:iam::123456789012:role/mhp-release") &&
      alltrue([for x in ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole", "iam:PassRole"] : anytrue([for a in s.actions : a == x || (endswith(a, "*") && startswith(x, trimsuffix(a, "*")))])])
    ])])
    error_message = "the deploy role must be denied changing or passing the CI roles themselves"
  }
}

run "pass_role_only_to_mhp_services" {
  command = plan

  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for d in [data.aws_iam_policy_document.deploy_iam[e], data.aws_iam_policy_document.boundary[e], data.aws_iam_policy_document.deploy_services[e], data.aws_iam_policy_document.deploy_regional["${e}/infra"], data.aws_iam_policy_document.deploy_regional["${e}/ops"]] : [
        for s in d.statement : s.effect == "Deny" || !anytrue([for a in(s.actions != null ? s.actions : toset([])) : contains(["iam:passrole", "iam:pass*", "iam:*", "*"], lower(a))]) || (
          alltrue([for r in s.resources : startswith(r, "arn:aws:iam::123456789012:role/mhp-${e}-")]) &&
          anytrue([for c in(s.condition != null ? s.condition : toset([])) : c.test == "StringEquals" && c.variable == "iam:PassedToService" && length(c.values) > 0 && alltrue([for v in c.values : !strcontains(v, "*")])])
        )
      ]
    ]]))
    error_message = "iam:PassRole must name this environment's roles (role/mhp-<env>-*) and the services that take them (iam:PassedToService)"
  }
}

run "the_boundary_stops_escalation" {
  command = plan

  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in data.aws_iam_policy_document.boundary[e].statement : s.effect == "Deny" || (
        (s.not_actions == null ? 0 : length(s.not_actions)) == 0 &&
        alltrue([for a in s.actions : a != "*" && (!startswith(lower(a), "iam:") || contains(["iam:passrole", "iam:describe*", "iam:get*", "iam:list*"], lower(a))) && !startswith(lower(a), "organizations:") && !startswith(lower(a), "account:") && !startswith(lower(a), "sts:")])
      )
    ]]))
    error_message = "the boundary allows an IAM write, Organizations, account, STS or everything"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "staging"] : anytrue([
      for s in data.aws_iam_policy_document.boundary[e].statement : s.effect == "Deny" && contains(s.resources, "*") && length(setsubtract(["iam:Create*", "iam:Put*", "iam:Attach*", "iam:Update*", "iam:Delete*"], s.actions)) == 0
    ])])
    error_message = "the boundary must deny IAM writes"
  }
  assert {
    condition     = alltrue([for e in ["prod-use1", "staging"] : anytrue([for s in data.aws_iam_policy_document.boundary[e].statement : s.effect == "Deny" && contains(s.actions, "iam:DeleteRolePermissionsBoundary")])])
    error_message = "the boundary must deny its own removal"
  }
  assert {
    condition     = alltrue([for e in ["prod-use1", "staging"] : anytrue([for s in data.aws_iam_policy_document.boundary[e].statement : s.effect == "Deny" && contains(s.actions, "organizations:*") && contains(s.actions, "account:*")])])
    error_message = "the boundary must deny Organizations and account changes"
  }
}

run "services_in_their_regions_without_iam" {
  command = plan

  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in concat(data.aws_iam_policy_document.deploy_services[e].statement, data.aws_iam_policy_document.deploy_regional["${e}/infra"].statement, data.aws_iam_policy_document.deploy_regional["${e}/ops"].statement) : s.effect == "Deny" || (
        (s.not_actions == null ? 0 : length(s.not_actions)) == 0 &&
        alltrue([for a in s.actions : a != "*" && !startswith(lower(a), "iam:") && !startswith(lower(a), "sts:") && !startswith(lower(a), "organizations:") && !startswith(lower(a), "account:") && !startswith(lower(a), "lambda:") && !startswith(lower(a), "cloudformation:")]) &&
        anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:RequestedRegion" && (
          toset(c.values) == toset(["us-east-1", "us-west-1"]) ||
          # Route 53 is global: its requests name us-east-1 in every environment.
          (toset(c.values) == toset(["us-east-1"]) && alltrue([for a in s.actions : startswith(a, "route53:")]))
        )])
      )
    ]]))
    error_message = "the deploy role's service statements: no IAM/STS/Organizations/account/Lambda/CloudFormation, and only in the environment's regions"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.read_guard.statement : s.effect == "Deny" || !anytrue([for a in s.actions : a == "*" || startswith(lower(a), "iam:")])])
    error_message = "the read guard grants nothing beyond KMS decryption through S3, SSM and Secrets Manager and the one secret value"
  }
  assert {
    condition     = anytrue([for s in data.aws_iam_policy_document.read_guard.statement : s.effect == "Deny" && contains(s.actions, "s3:GetObject") && try(contains(s.resources, "arn:aws:s3:::mhp-*-data/*"), false)])
    error_message = "neither CI role reads PHI objects"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.read_guard.statement :
      !contains(s.actions, "secretsmanager:GetSecretValue") || (
        s.effect == "Deny" ? try(length(s.resources), 0) == 0 && try(length(s.not_resources), 0) == 1 :
      try(length(s.resources), 0) == 1 && alltrue([for r in try(s.resources, []) : endswith(r, ":secret:mhp/*/wazuh-api-??????")]))
    ])
    error_message = "secret values: the Wazuh API's secret alone is readable (Terraform refreshes its version); every other one is denied"
  }

}

run "every_role_only_from_protected_refs" {
  command = plan

  # GitHub's sub for an environment job names the environment, not the branch: the ref and
  # job_workflow_ref conditions keep jobs of other branches out of every role, plan roles included.
  assert {
    condition = alltrue([for e in ["prod-use1", "prod-use1-plan", "staging", "staging-plan"] :
      length(data.aws_iam_policy_document.deploy_trust[e].statement) == 1 &&
      length([for c in data.aws_iam_policy_document.deploy_trust[e].statement[0].condition : c if c.variable == "token.actions.githubusercontent.com:ref" && c.test == "StringLike" && length(c.values) > 0 && alltrue([for v in c.values : v == "refs/heads/main" || startswith(v, "refs/tags/v")])]) == 1
    ])
    error_message = "a deploy or plan role can be assumed from a ref other than main or a v* tag"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "prod-use1-plan", "staging", "staging-plan"] :
      length([for c in data.aws_iam_policy_document.deploy_trust[e].statement[0].condition : c if c.variable == "token.actions.githubusercontent.com:job_workflow_ref" && c.test == "StringLike" && length(c.values) > 0 && alltrue([for v in c.values : v == "mhp-org/mhp/.github/workflows/deploy-env.yml@refs/heads/main" || startswith(v, "mhp-org/mhp/.github/workflows/deploy-env.yml@refs/tags/v")])]) == 1
    ])
    error_message = "a deploy or plan role can be assumed by a workflow other than deploy-env.yml on a protected ref"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "prod-use1-plan", "staging", "staging-plan"] :
      flatten([for c in data.aws_iam_policy_document.deploy_trust[e].statement[0].condition : c.values if c.variable == "token.actions.githubusercontent.com:sub" && c.test == "StringEquals"]) == ["repo:mhp-org/mhp:environment:${e}"]
    ])
    error_message = "each role trusts exactly its own GitHub environment"
  }
  assert {
    condition = length(data.aws_iam_policy_document.release_trust.statement) == 1 && alltrue([
      for c in data.aws_iam_policy_document.release_trust.statement[0].condition : c.variable != "token.actions.githubusercontent.com:ref" || (c.test == "StringLike" && alltrue([for v in c.values : v == "refs/heads/main" || startswith(v, "refs/tags/v")]))
      ]) && length([for c in data.aws_iam_policy_document.release_trust.statement[0].condition : c if c.variable == "token.actions.githubusercontent.com:ref"]) == 1 && length([
      for c in data.aws_iam_policy_document.release_trust.statement[0].condition : c if c.variable == "token.actions.githubusercontent.com:job_workflow_ref" && alltrue([for v in c.values : startswith(v, "mhp-org/mhp/.github/workflows/release.yml@refs/")])
    ]) == 1
    error_message = "the release role can be assumed from a ref other than main or a v* tag, or by a workflow other than release.yml"
  }
}
