# The deploy role grants what deploy_actions.json says the roots' resources need, nothing more, and
# never a whole service (deploy/README.md, "CI/CD: least privilege"). Each assertion fails if: an
# action of the file is missing from the rendered statements, or a statement grants one the file
# does not hold; an IAM action of the file is not granted by deploy_iam's conditioned statements;
# an allow names a service-wide wildcard (`service:*...`) outside the file's wildcard_allow; an
# action has no scope; a KMS statement that could hand a key to someone (key policy, replica,
# grant, new key) loses its condition. deploy/terraform/check_deploy_actions.py checks the file
# against the roots (check deploy-actions).

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
  repository   = "mhp-org/mhp"
  environments = ["prod-use1", "prod-use1-plan", "staging"]
  regions      = ["us-east-1", "us-west-1"]
}

run "the_file_is_the_policy" {
  command = plan

  assert {
    condition     = !contains(keys(local.deploy_scoped), "unscoped")
    error_message = "an action of deploy_actions.json has no scope (scopes: by action or by service): it would be granted nowhere"
  }
  assert {
    condition = alltrue([for e in ["prod-use1", "staging"] :
      toset(flatten([for s in concat(data.aws_iam_policy_document.deploy_services[e].statement, data.aws_iam_policy_document.deploy_regional["${e}/infra"].statement, data.aws_iam_policy_document.deploy_regional["${e}/ops"].statement) : s.actions if s.effect != "Deny"]))
      == toset([for a in local.deploy_action_list : a if !startswith(a, "iam:")])
    ])
    error_message = "the deploy role's service statements must grant exactly the non-IAM actions of deploy_actions.json"
  }
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for a in local.deploy_action_list : anytrue([
        for s in data.aws_iam_policy_document.deploy_iam[e].statement : s.effect != "Deny" && anytrue([for g in s.actions : lower(g) == lower(a) || (endswith(g, "*") && startswith(lower(a), lower(trimsuffix(g, "*"))))])
      ]) if startswith(a, "iam:")
    ]]))
    error_message = "an IAM action of deploy_actions.json is not granted by deploy_iam's conditioned statements"
  }
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in concat(data.aws_iam_policy_document.deploy_services[e].statement, data.aws_iam_policy_document.deploy_regional["${e}/infra"].statement, data.aws_iam_policy_document.deploy_regional["${e}/ops"].statement, data.aws_iam_policy_document.deploy_iam[e].statement) : [
        for a in s.actions : s.effect == "Deny" || !can(regex("^[a-z0-9-]+:\\*", a)) || contains(keys(local.deploy_actions.wildcard_allow), a)
      ]
    ]]))
    error_message = "an allow of the deploy role names a service-wide wildcard (service:*...) that deploy_actions.json's wildcard_allow does not list"
  }
  assert {
    condition     = alltrue([for a, why in local.deploy_actions.wildcard_allow : length(trimspace(why)) >= 20])
    error_message = "every wildcard_allow entry of deploy_actions.json says why no narrower form exists"
  }
}

run "escalating_kms_actions_keep_their_conditions" {
  command = plan

  # Key policies, replicas and administration only on keys tagged as this environment's.
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in data.aws_iam_policy_document.deploy_services[e].statement : s.effect == "Deny" || !anytrue([for a in s.actions : contains(["kms:putkeypolicy", "kms:replicatekey", "kms:schedulekeydeletion", "kms:untagresource", "kms:enablekeyrotation"], lower(a))]) || (
        alltrue([for r in s.resources : startswith(r, "arn:aws:kms:*:123456789012:key/")]) &&
        anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:ResourceTag/mhp:environment" && toset(c.values) == toset([e])]) &&
        anytrue([for c in s.condition : c.variable == "kms:BypassPolicyLockoutSafetyCheck" && toset(c.values) == toset(["false"])])
      )
    ]]))
    error_message = "kms:PutKeyPolicy (and the other key administration) only on keys tagged mhp:environment = <env>, never bypassing the lockout check"
  }
  # New keys only tagged as this environment's (so that the statement above covers them).
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in data.aws_iam_policy_document.deploy_services[e].statement : s.effect == "Deny" || !contains(s.actions, "kms:CreateKey") || (
        anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:RequestTag/mhp:environment" && toset(c.values) == toset([e])]) &&
        anytrue([for c in s.condition : c.variable == "kms:BypassPolicyLockoutSafetyCheck" && toset(c.values) == toset(["false"])])
      )
    ]]))
    error_message = "kms:CreateKey only with the tag mhp:environment = <env> and without bypassing the lockout check"
  }
  # Grants only for AWS services acting for a resource, on this environment's keys.
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in concat(data.aws_iam_policy_document.deploy_services[e].statement, data.aws_iam_policy_document.deploy_regional["${e}/infra"].statement, data.aws_iam_policy_document.deploy_regional["${e}/ops"].statement) : s.effect == "Deny" || !anytrue([for a in s.actions : lower(a) == "kms:creategrant" || (startswith(a, "kms:") && endswith(a, "*"))]) || (
        anytrue([for c in s.condition : c.test == "Bool" && c.variable == "kms:GrantIsForAWSResource" && toset(c.values) == toset(["true"])]) &&
        anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:ResourceTag/mhp:environment" && toset(c.values) == toset([e])])
      )
    ]]))
    error_message = "kms:CreateGrant only with kms:GrantIsForAWSResource and on this environment's keys"
  }
  # Data keys only through the storage services, named exactly.
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in concat(data.aws_iam_policy_document.deploy_services[e].statement, data.aws_iam_policy_document.deploy_regional["${e}/infra"].statement, data.aws_iam_policy_document.deploy_regional["${e}/ops"].statement) : s.effect == "Deny" || !anytrue([for a in s.actions : contains(["kms:encrypt", "kms:decrypt", "kms:generatedatakey"], lower(a))]) ||
      anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "kms:ViaService" && length(c.values) > 0 && alltrue([for v in c.values : !strcontains(v, "*")])])
    ]]))
    error_message = "kms:Encrypt/Decrypt/GenerateDataKey only through named services (kms:ViaService)"
  }
  # KMS actions appear only in the KMS statements above (none in the regional managed policies).
  assert {
    condition = alltrue(flatten([for e in ["prod-use1", "staging"] : [
      for s in concat(data.aws_iam_policy_document.deploy_regional["${e}/infra"].statement, data.aws_iam_policy_document.deploy_regional["${e}/ops"].statement) : alltrue([for a in s.actions : !startswith(lower(a), "kms:")])
    ]]))
    error_message = "a KMS action landed in a regional (unconditioned) statement"
  }
}
