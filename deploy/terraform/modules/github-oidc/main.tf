# GitHub Actions reaches AWS through OpenID Connect: no long-lived access keys anywhere.
#   mhp-deploy-<env>       assumable only by deploy-env.yml's apply job of this repository, in the
#                          GitHub environment <env> (required reviewers on production), on a
#                          protected ref (main, v* tags). Applies Terraform and watches ECS. It has
#                          no PowerUserAccess: reads everything (ReadOnlyAccess, PHI objects
#                          denied), writes only the actions deploy_actions.json derives from the
#                          resource types envs/* manage (no `service:*`), in the environment's
#                          regions, KMS only on keys tagged as the environment's, and IAM only on
#                          mhp-<env>-* roles that carry the boundary mhp-<env>-boundary (see
#                          "CI/CD: least privilege" in deploy/README.md).
#   mhp-deploy-<env>-plan  the same trust for the environment <env>-plan, on the same protected
#                          refs and workflow: read-only (ReadOnlyAccess, KMS decryption only
#                          through S3 and SSM, never the PHI buckets' objects); `terraform plan
#                          -lock=false`.
#   mhp-release            assumable only by release.yml in the GitHub environment `release` on
#                          main (the weekly rebuild) or a v* tag; pushes images to ECR and reads
#                          their scan findings.
#   mhp-<env>-boundary     the permissions boundary every role the deploy role creates must carry:
#                          the services MHP's own roles use, no IAM writes, no Organizations, no
#                          account changes, no boundary removal.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  apply_envs = toset([for e in var.environments : e if !endswith(e, "-plan")])
  plan_envs  = toset([for e in var.environments : e if endswith(e, "-plan")])
  account    = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  provider   = var.create_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:${local.partition}:iam::${local.account}:oidc-provider/token.actions.githubusercontent.com"
  iam        = "arn:${local.partition}:iam::${local.account}"

  # The boundary's ARN is known before it exists (IAM names are the ARN), so that the deploy
  # role's conditions and the environment roots (envs/<env>/main.tf) can name it.
  boundary_arns = { for e in local.apply_envs : e => "${local.iam}:policy/mhp-${e}-boundary" }

  # Roles and instance profiles of one environment: modules/platform names them mhp-<env>-*.
  env_roles    = { for e in local.apply_envs : e => "${local.iam}:role/mhp-${e}-*" }
  env_profiles = { for e in local.apply_envs : e => "${local.iam}:instance-profile/mhp-${e}-*" }

  # What a job's OIDC token must say besides its environment: a protected ref, and the workflow
  # file that runs the job, taken from that same protected ref.
  deploy_workflow_refs  = [for r in var.protected_refs : "${var.repository}/${var.deploy_workflow}@${r}"]
  release_workflow_refs = [for r in var.protected_refs : "${var.repository}/${var.release_workflow}@${r}"]

  # The IAM actions that give a role its permissions: allowed only with the boundary.
  boundary_guarded_actions = [
    "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
    "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
  ]
  # IAM writes, for the deny statements (the boundary's, and the CI roles' own protection).
  iam_writes = [
    "iam:Add*", "iam:Attach*", "iam:Change*", "iam:Create*", "iam:Deactivate*", "iam:Delete*",
    "iam:Detach*", "iam:Enable*", "iam:Put*", "iam:Remove*", "iam:Reset*", "iam:Resync*",
    "iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:Upload*",
  ]
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # IAM trusts GitHub's certificate through its own CA store; the thumbprint is kept for
  # older API callers.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
  tags            = var.tags
}

# --- Trust: environment, protected ref, and the deploy workflow from that ref ---------------------
# GitHub sends sub = repo:<owner>/<repo>:environment:<env> for a job in an environment, whatever
# its branch: the ref and job_workflow_ref claims (STS validates GitHub's claims since 2026-01)
# keep a job on any other branch out, even where the environment's branch policy were loosened.

data "aws_iam_policy_document" "deploy_trust" {
  for_each = toset(var.environments)

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.repository}:environment:${each.key}"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:ref"
      values   = var.protected_refs
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:job_workflow_ref"
      values   = local.deploy_workflow_refs
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each = toset(var.environments)

  name                 = "mhp-deploy-${each.key}"
  description          = "GitHub Actions deploy of MHP to ${each.key} (environment-scoped OIDC, protected refs)"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[each.key].json
  max_session_duration = 3600
  tags                 = var.tags
}

# --- Managed policies: reading only (both roles) ---------------------------------------------------
# One attachment resource for every managed policy of the CI roles, so that the tests see them all:
# ReadOnlyAccess for plan and apply (Terraform refreshes every resource), nothing broader.
locals {
  managed_policy_attachments = merge(
    { for e in local.apply_envs : "${e}/ReadOnlyAccess" => { role = e, policy = "ReadOnlyAccess" } },
    { for e in local.plan_envs : "${e}/ReadOnlyAccess" => { role = e, policy = "ReadOnlyAccess" } },
  )
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each = local.managed_policy_attachments

  role       = aws_iam_role.deploy[each.value.role].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value.policy}"
}

# Both roles: KMS decryption for the state and parameters, and never the PHI buckets' objects.
data "aws_iam_policy_document" "read_guard" {
  statement {
    sid       = "DecryptStateAndParameters"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      # Secrets Manager: for the one secret value the roles may read (below).
      values = ["s3.*.amazonaws.com", "ssm.*.amazonaws.com", "secretsmanager.*.amazonaws.com"]
    }
  }
  statement {
    sid     = "NeverPhiObjects"
    effect  = "Deny"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "arn:${local.partition}:s3:::mhp-*-data/*",
      "arn:${local.partition}:s3:::mhp-*-audit-exports/*",
      "arn:${local.partition}:s3:::mhp-*-backups/*",
      "arn:${local.partition}:s3:::mhp-*-key-backups/*",
    ]
  }
  # Refreshing an aws_secretsmanager_secret_version reads its value (GetSecretValue). The one
  # version a root manages is the Wazuh manager API's password (modules/wazuh), which Terraform
  # made itself and keeps in the state both roles read already: that secret alone is readable,
  # so that plan and apply can refresh it. Every other secret's value stays out of reach.
  statement {
    sid       = "RefreshTheWazuhApiSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [local.wazuh_api_secret]
  }
  statement {
    sid           = "NeverSecretValues"
    effect        = "Deny"
    actions       = ["secretsmanager:GetSecretValue"]
    not_resources = [local.wazuh_api_secret]
  }
}

locals {
  # modules/platform names it mhp/<environment>/wazuh-api; Secrets Manager appends 6 characters.
  wazuh_api_secret = "arn:${local.partition}:secretsmanager:*:${local.account}:secret:mhp/*/wazuh-api-??????"
}

resource "aws_iam_role_policy" "plan" {
  for_each = local.plan_envs

  name   = "plan-only"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.read_guard.json
}

resource "aws_iam_role_policy" "deploy_read_guard" {
  for_each = local.apply_envs

  name   = "read-guard"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.read_guard.json
}

# --- Apply role: the actions the roots' resources need, in the environment's regions -------------
# deploy_actions.json maps every AWS resource type that envs/* manage (through modules/platform) to
# the write actions Terraform needs for it (create, update, delete, tag; reads come from
# ReadOnlyAccess), and names each action's scope: which statement below grants it, on which
# resources and under which conditions. No statement grants a whole service (`service:*`):
# deploy/terraform/check_deploy_actions.py (check deploy-actions) fails on a resource type of a root
# without an entry, an entry (or a service) that no root needs any more, and a service-wide
# wildcard outside the file's wildcard_allow; tests/deploy_actions.tftest.hcl asserts that the
# statements grant exactly the file's actions and that the escalating ones keep their conditions.
# Nothing else: no Lambda, no CloudFormation, no STS role chaining.
locals {
  deploy_actions = jsondecode(file("${path.module}/deploy_actions.json"))
  deploy_action_list = sort(distinct(flatten(concat(
    values(local.deploy_actions.resource_types), values(local.deploy_actions.data_sources),
    values(local.deploy_actions.backend),
  ))))
  # An action's scopes: its own entry in `scopes`, else its service's.
  deploy_action_scopes = { for a in local.deploy_action_list :
    a => lookup(local.deploy_actions.scopes, a, lookup(local.deploy_actions.scopes, split(":", a)[0], ["unscoped"]))
  }
  deploy_scoped = { for scope in distinct(flatten(values(local.deploy_action_scopes))) :
    scope => [for a in local.deploy_action_list : a if contains(local.deploy_action_scopes[a], scope)]
  }
  # The regional scopes are too many actions for the inline policies (10,240 characters in all):
  # each is a managed policy mhp-deploy-<env>-<name> of its own (at most 6,144 characters).
  deploy_regional_scopes = { infra = "regional-infra", ops = "regional-ops" }
  deploy_regional = { for p in setproduct(sort(local.apply_envs), keys(local.deploy_regional_scopes)) :
    "${p[0]}/${p[1]}" => { env = p[0], name = p[1], scope = local.deploy_regional_scopes[p[1]] }
  }
  # AWS services that act on the caller's behalf with the environment's keys (data keys only).
  kms_via_services = ["s3", "ssm", "secretsmanager", "backup"]
}

data "aws_iam_policy_document" "deploy_regional" {
  for_each = local.deploy_regional

  statement {
    sid       = "PlatformResourcesInItsRegions"
    actions   = local.deploy_scoped[each.value.scope]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestedRegion"
      values   = var.regions
    }
  }
}

resource "aws_iam_policy" "deploy_regional" {
  for_each = local.deploy_regional

  name        = "mhp-deploy-${each.value.env}-${each.value.name}"
  description = "Deploy role mhp-deploy-${each.value.env}: ${each.value.scope} actions of deploy_actions.json (modules/github-oidc)"
  policy      = data.aws_iam_policy_document.deploy_regional[each.key].json
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = length(replace(data.aws_iam_policy_document.deploy_regional[each.key].json, "/\\s/", "")) <= 6144
      error_message = "A managed policy holds at most 6,144 characters: move services of deploy_actions.json to another regional scope."
    }
  }
}

resource "aws_iam_role_policy_attachment" "deploy_regional" {
  for_each = local.deploy_regional

  role       = aws_iam_role.deploy[each.value.env].name
  policy_arn = aws_iam_policy.deploy_regional[each.key].arn
}

data "aws_iam_policy_document" "deploy_services" {
  for_each = local.apply_envs

  dynamic "statement" {
    for_each = length(lookup(local.deploy_scoped, "mhp-buckets", [])) > 0 ? [1] : []
    content {
      sid     = "MhpBucketsOnly"
      actions = local.deploy_scoped["mhp-buckets"]
      resources = [
        "arn:${local.partition}:s3:::mhp-*",
        "arn:${local.partition}:s3:::mhp-*/*",
      ]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    for_each = length(lookup(local.deploy_scoped, "mhp-domains", [])) > 0 ? [1] : []
    content {
      sid       = "MhpSearchDomainsOnly"
      actions   = local.deploy_scoped["mhp-domains"]
      resources = ["arn:${local.partition}:es:*:${local.account}:domain/mhp-*"]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    for_each = length(lookup(local.deploy_scoped, "mhp-secrets", [])) > 0 ? [1] : []
    content {
      sid     = "MhpSecretsAndParametersOnly"
      actions = local.deploy_scoped["mhp-secrets"]
      resources = [
        "arn:${local.partition}:secretsmanager:*:${local.account}:secret:mhp/*",
        "arn:${local.partition}:secretsmanager:*:${local.account}:secret:rds!*",
        "arn:${local.partition}:ssm:*:${local.account}:parameter/mhp/*",
      ]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    # Random passwords take no resource ARN.
    for_each = length(lookup(local.deploy_scoped, "no-resource", [])) > 0 ? [1] : []
    content {
      sid       = "WithoutResource"
      actions   = local.deploy_scoped["no-resource"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    # The failover health check and records (modules/failover), the mail domain's DKIM and MAIL
    # FROM records (modules/mail), the Wazuh manager's private zone (modules/wazuh). Route 53 is
    # global: its requests name us-east-1 (the global endpoint's region) whatever the
    # environment's region.
    for_each = length(lookup(local.deploy_scoped, "route53", [])) > 0 ? [1] : []
    content {
      sid       = "Route53Global"
      actions   = local.deploy_scoped["route53"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = ["us-east-1"]
      }
    }
  }

  # KMS: keys are made only tagged as this environment's, administered (key policy, rotation,
  # deletion, aliases) only when so tagged, granted only to AWS services acting for a resource,
  # and used for data keys only through the services that store with them.
  dynamic "statement" {
    for_each = length(lookup(local.deploy_scoped, "kms-create", [])) > 0 ? [1] : []
    content {
      sid       = "KmsKeysMadeAsThisEnvironments"
      actions   = local.deploy_scoped["kms-create"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/mhp:environment"
        values   = [each.key]
      }
      condition {
        test     = "BoolIfExists"
        variable = "kms:BypassPolicyLockoutSafetyCheck"
        values   = ["false"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    for_each = length(lookup(local.deploy_scoped, "kms-key", [])) > 0 ? [1] : []
    content {
      sid       = "KmsKeysOfThisEnvironmentOnly"
      actions   = local.deploy_scoped["kms-key"]
      resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/mhp:environment"
        values   = [each.key]
      }
      condition {
        test     = "BoolIfExists"
        variable = "kms:BypassPolicyLockoutSafetyCheck"
        values   = ["false"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    # An alias change is authorised on the alias and on its key (the statement above).
    for_each = length(lookup(local.deploy_scoped, "kms-alias", [])) > 0 ? [1] : []
    content {
      sid       = "KmsAliasesOfThisEnvironmentOnly"
      actions   = local.deploy_scoped["kms-alias"]
      resources = ["arn:${local.partition}:kms:*:${local.account}:alias/mhp-${each.key}-*"]
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    for_each = length(lookup(local.deploy_scoped, "kms-grant", [])) > 0 ? [1] : []
    content {
      sid       = "KmsGrantsOnlyForAwsResources"
      actions   = local.deploy_scoped["kms-grant"]
      resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
      condition {
        test     = "Bool"
        variable = "kms:GrantIsForAWSResource"
        values   = ["true"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/mhp:environment"
        values   = [each.key]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
  dynamic "statement" {
    # The state (bootstrap's key), SecureString parameters, secret values and backup vaults.
    for_each = length(lookup(local.deploy_scoped, "kms-via-service", [])) > 0 ? [1] : []
    content {
      sid       = "KmsDataKeysThroughStorageServices"
      actions   = local.deploy_scoped["kms-via-service"]
      resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = sort([for p in setproduct(local.kms_via_services, var.regions) : "${p[0]}.${p[1]}.amazonaws.com"])
      }
      condition {
        test     = "StringEquals"
        variable = "aws:RequestedRegion"
        values   = var.regions
      }
    }
  }
}

resource "aws_iam_role_policy" "deploy_services" {
  for_each = local.apply_envs

  name   = "platform-services"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy_services[each.key].json

  lifecycle {
    precondition {
      # IAM's limit on a role's inline policies together (whitespace not counted).
      condition = sum([for j in [
        data.aws_iam_policy_document.deploy_services[each.key].json,
        data.aws_iam_policy_document.deploy_iam[each.key].json,
        data.aws_iam_policy_document.read_guard.json,
      ] : length(replace(j, "/\\s/", ""))]) <= 10240
      error_message = "The deploy role's inline policies exceed 10,240 characters: move a scope of deploy_actions.json to a managed policy (deploy_regional_scopes)."
    }
  }
}

# --- Apply role: IAM only on mhp-<env>-* roles, only with the boundary ------------------------------
data "aws_iam_policy_document" "deploy_iam" {
  for_each = local.apply_envs

  statement {
    sid       = "RolePermissionsOnlyWithTheBoundary"
    actions   = local.boundary_guarded_actions
    resources = [local.env_roles[each.key]]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arns[each.key]]
    }
  }
  statement {
    # These actions take no iam:PermissionsBoundary key; none of them adds a permission (a trust
    # policy names who may assume the role, whose permissions stay within the boundary).
    sid = "RoleLifecycle"
    actions = [
      "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole",
    ]
    resources = [local.env_roles[each.key]]
  }
  statement {
    sid = "InstanceProfiles"
    actions = [
      "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile",
    ]
    resources = [local.env_profiles[each.key]]
  }
  statement {
    sid       = "PassMhpRolesToTheirServicesOnly"
    actions   = ["iam:PassRole"]
    resources = [local.env_roles[each.key]]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = var.pass_role_services
    }
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["${local.iam}:role/aws-service-role/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = var.service_linked_role_services
    }
  }

  # Explicit denies: they hold whatever an allow above (or a policy added later) says.
  statement {
    sid       = "DenyRolePermissionsWithoutTheBoundary"
    effect    = "Deny"
    actions   = local.boundary_guarded_actions
    resources = ["*"]
    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arns[each.key]]
    }
  }
  statement {
    sid       = "DenyBoundaryRemoval"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"]
    resources = ["*"]
  }
  statement {
    sid    = "DenyChangingTheBoundaries"
    effect = "Deny"
    actions = [
      "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy",
    ]
    resources = ["${local.iam}:policy/mhp-*-boundary", "${local.iam}:policy/mhp-deploy-*"]
  }
  statement {
    sid     = "DenyChangingTheCiRolesAndProvider"
    effect  = "Deny"
    actions = concat(local.iam_writes, ["iam:PassRole"])
    resources = [
      "${local.iam}:role/mhp-deploy-*",
      "${local.iam}:role/mhp-release",
      "${local.iam}:oidc-provider/*",
    ]
  }
  statement {
    sid    = "DenyUsersKeysOrganizationsAccount"
    effect = "Deny"
    actions = [
      "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
      "iam:CreateGroup", "iam:AddUserToGroup", "organizations:*", "account:*", "sts:AssumeRole",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "deploy_iam" {
  for_each = local.apply_envs

  name   = "manage-mhp-roles"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy_iam[each.key].json
}

# --- The permissions boundary of every role the deploy role creates ---------------------------------
# The union of what MHP's roles use: task roles (S3, KMS, OpenSearch over HTTPS, logs, X-Ray, ECS
# RunTask of the pipeline task), execution roles (ECR pulls, logs, secrets), the container
# instances (ECS agent, SSM Session Manager), EventBridge Scheduler (ECS RunTask), AWS Backup
# (backups and restores of Aurora and S3), RDS enhanced monitoring, VPC flow logs and CloudTrail
# (CloudWatch Logs), AWS Config (reads of what it records, delivery to S3), the OpenSearch
# break-glass role, the tasks' e-mail through SES (send only). Never IAM writes, Organizations or
# account changes, and never its own removal.
data "aws_iam_policy_document" "boundary" {
  for_each = local.apply_envs

  statement {
    sid = "ServicesMhpRolesUse"
    actions = [
      "s3:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey",
      "kms:CreateGrant", "kms:ListGrants", "kms:RetireGrant", "es:ESHttp*", "logs:*",
      "cloudwatch:PutMetricData", "cloudwatch:GetMetricData", "xray:PutTraceSegments",
      "xray:PutTelemetryRecords", "xray:GetSampling*", "ecs:*", "ecr:GetAuthorizationToken",
      "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
      "ssm:UpdateInstanceInformation", "ssm:UpdateInstanceAssociationStatus",
      "ssm:UpdateAssociationStatus", "ssm:PutInventory", "ssm:PutComplianceItems",
      "ssm:PutConfigurePackageResult", "ssmmessages:*", "ec2messages:*",
      "secretsmanager:GetSecretValue", "backup:*", "backup-storage:*", "rds:*", "sns:Publish",
      "events:*Rule*", "events:*Targets*", "tag:GetResources", "config:*",
      # The host-image build instance reads its components; Firehose writes into the SIEM from
      # inside the VPC, and CloudWatch Logs subscriptions put records into Firehose.
      "imagebuilder:GetComponent", "imagebuilder:GetContainerRecipe", "firehose:PutRecord",
      "firehose:PutRecordBatch", "ec2:CreateNetworkInterface",
      "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
      # The Wazuh manager's task mounts its state (EFS, IAM authorization).
      "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
      "elasticfilesystem:ClientRootAccess",
      # The app and worker tasks send e-mail through SES (modules/mail; their own policies name
      # the identity, the configuration set and the sender).
      "ses:SendEmail", "ses:SendRawEmail",
    ]
    resources = ["*"]
  }
  statement {
    # AWS Config records the account's resources through its role: reading them is its job.
    sid       = "ReadsForTheRecorderAndAgents"
    actions   = flatten([for s in var.boundary_read_services : ["${s}:Describe*", "${s}:Get*", "${s}:List*"]])
    resources = ["*"]
  }
  statement {
    sid       = "PassOnlyThisEnvironmentsRoles"
    actions   = ["iam:PassRole"]
    resources = [local.env_roles[each.key]]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = var.pass_role_services
    }
  }
  statement {
    sid       = "NoIamWrites"
    effect    = "Deny"
    actions   = local.iam_writes
    resources = ["*"]
  }
  statement {
    sid       = "NoBoundaryRemoval"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]
    resources = ["*"]
  }
  statement {
    sid       = "NoOrganizationsOrAccount"
    effect    = "Deny"
    actions   = ["organizations:*", "account:*"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  for_each = local.apply_envs

  name        = "mhp-${each.key}-boundary"
  description = "Permissions boundary of every IAM role of the MHP environment ${each.key} (no IAM writes, no boundary removal)"
  policy      = data.aws_iam_policy_document.boundary[each.key].json
  tags        = var.tags
}

# --- Release role: environment `release`, protected refs, release.yml ------------------------------
data "aws_iam_policy_document" "release_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.repository}:environment:release"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:ref"
      values   = var.protected_refs
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:job_workflow_ref"
      values   = local.release_workflow_refs
    }
  }
}

resource "aws_iam_role" "release" {
  count = length(var.ecr_repository_arns) > 0 ? 1 : 0

  name                 = "mhp-release"
  description          = "GitHub Actions push of MHP images to ECR (release.yml, protected refs)"
  assume_role_policy   = data.aws_iam_policy_document.release_trust.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "release" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions
  }
  statement {
    sid = "PushMhpImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer", "ecr:DescribeImageScanFindings",
    ]
    resources = var.ecr_repository_arns
  }
  statement {
    # The vulnerability gate reads the enhanced scan (Amazon Inspector) of the pushed image; these
    # Inspector reads take no resource ARN.
    sid       = "ReadScanFindings"
    actions   = ["inspector2:ListFindings", "inspector2:ListCoverage"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "release" {
  count = length(var.ecr_repository_arns) > 0 ? 1 : 0

  name   = "push-images"
  role   = aws_iam_role.release[0].id
  policy = data.aws_iam_policy_document.release.json
}
