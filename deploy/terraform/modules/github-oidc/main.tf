# GitHub Actions reaches AWS through OpenID Connect: no long-lived access keys anywhere.
#   mhp-deploy-<env>  assumable only by a job of this repository running in the GitHub
#                     environment <env> (whose protection rules demand approval for production);
#                     applies Terraform and updates ECS
#   mhp-deploy-<env>-plan  the same for the environment <env>-plan: read-only (ReadOnlyAccess,
#                     KMS decryption only through S3 and SSM, never the PHI buckets' objects);
#                     runs `terraform plan -lock=false`
#   mhp-release       assumable only from the main branch (and v* tags); pushes images to ECR

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  apply_envs = toset([for e in var.environments : e if !endswith(e, "-plan")])
  plan_envs  = toset([for e in var.environments : e if endswith(e, "-plan")])
  account    = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  provider   = var.create_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:${local.partition}:iam::${local.account}:oidc-provider/token.actions.githubusercontent.com"
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
  }
}

resource "aws_iam_role" "deploy" {
  for_each = toset(var.environments)

  name                 = "mhp-deploy-${each.key}"
  description          = "GitHub Actions deploy of MHP to ${each.key} (environment-scoped OIDC)"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[each.key].json
  max_session_duration = 3600
  tags                 = var.tags
}

# Terraform manages most services of the platform, so the deploy role has PowerUserAccess
# (everything but IAM and Organizations), plus IAM only on MHP's own roles and policies.
resource "aws_iam_role_policy_attachment" "deploy_power_user" {
  for_each = local.apply_envs

  role       = aws_iam_role.deploy[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

data "aws_iam_policy_document" "deploy_iam" {
  statement {
    sid = "ManageMhpRolesOnly"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
      "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PassRole", "iam:ListInstanceProfilesForRole",
      "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
      "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
    ]
    resources = [
      "arn:${local.partition}:iam::${local.account}:role/mhp-*",
      "arn:${local.partition}:iam::${local.account}:instance-profile/mhp-*",
    ]
  }
  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/*"]
  }
}

resource "aws_iam_role_policy" "deploy_iam" {
  for_each = local.apply_envs

  name   = "manage-mhp-roles"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy_iam.json
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  for_each = local.plan_envs

  role       = aws_iam_role.deploy[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "DecryptStateAndParametersOnly"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:*:${local.account}:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com", "ssm.*.amazonaws.com"]
    }
  }
  statement {
    sid     = "NeverPhiObjects"
    effect  = "Deny"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "arn:${local.partition}:s3:::mhp-*-data/*",
      "arn:${local.partition}:s3:::mhp-*-audit-exports/*",
    ]
  }
}

resource "aws_iam_role_policy" "plan" {
  for_each = local.plan_envs

  name   = "plan-only"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.plan.json
}

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
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.repository}:ref:refs/heads/main", "repo:${var.repository}:ref:refs/tags/v*", "repo:${var.repository}:environment:release"]
    }
  }
}

resource "aws_iam_role" "release" {
  count = length(var.ecr_repository_arns) > 0 ? 1 : 0

  name                 = "mhp-release"
  description          = "GitHub Actions push of MHP images to ECR"
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
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = var.ecr_repository_arns
  }
}

resource "aws_iam_role_policy" "release" {
  count = length(var.ecr_repository_arns) > 0 ? 1 : 0

  name   = "push-images"
  role   = aws_iam_role.release[0].id
  policy = data.aws_iam_policy_document.release.json
}
