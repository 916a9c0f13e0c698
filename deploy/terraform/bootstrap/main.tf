data "aws_caller_identity" "current" {}

locals {
  account      = data.aws_caller_identity.current.account_id
  state_bucket = "mhp-tfstate-${local.account}-${var.region}"

  # Where the environments of this account and region put their resources: the region itself and
  # the region their backups are copied to (deploy/README.md, Environments). In a region that is
  # only a recovery region (ap-southeast-4), the recovery environments there copy back to their
  # source's region (templates/demo source_region: copy_region inverted).
  copy_region    = { "us-east-1" = "us-west-1", "us-west-1" = "us-east-1", "ap-southeast-2" = "ap-southeast-4" }
  source_region  = { for region, recovery in local.copy_region : recovery => region }
  deploy_regions = var.deploy_regions != null ? var.deploy_regions : distinct(compact([var.region, lookup(local.copy_region, var.region, lookup(local.source_region, var.region, ""))]))
}

module "kms" {
  source = "../modules/kms"
  # No replicated purposes here: the replica provider is unused.
  providers = {
    aws         = aws
    aws.replica = aws
  }

  name = "mhp-bootstrap-${var.region}"
}

module "state_logs" {
  source = "../modules/s3-bucket"

  name            = "${local.state_bucket}-logs"
  kms_key_arn     = null
  access_logging  = false
  expiration_days = 400
}

module "state" {
  source = "../modules/s3-bucket"

  name                    = local.state_bucket
  kms_key_arn             = module.kms.key_arns["data"]
  access_log_bucket       = module.state_logs.id
  noncurrent_version_days = 365
}

module "github_oidc" {
  source = "../modules/github-oidc"

  repository          = var.github_repository
  environments        = var.environments
  create_provider     = var.create_oidc_provider
  regions             = local.deploy_regions
  ecr_repository_arns = var.release_account ? [aws_ecr_repository.mhp[0].arn] : []
}

# --- Release account only: the image repository ---------------------------------------------------

resource "aws_ecr_repository" "mhp" {
  count = var.release_account ? 1 : 0

  name                 = "mhp"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = module.kms.key_arns["data"]
  }
}

resource "aws_ecr_lifecycle_policy" "mhp" {
  count = var.release_account ? 1 : 0

  repository = aws_ecr_repository.mhp[0].name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Drop untagged images (signatures and SBOM attestations are tagged) after 30 days"
      selection    = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 30 }
      action       = { type = "expire" }
    }]
  })
}

data "aws_iam_policy_document" "pull" {
  statement {
    sid     = "EnvironmentAccountsPull"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    principals {
      type        = "AWS"
      identifiers = length(var.pull_account_ids) > 0 ? [for a in var.pull_account_ids : "arn:aws:iam::${a}:root"] : ["arn:aws:iam::${local.account}:root"]
    }
  }
}

resource "aws_ecr_repository_policy" "mhp" {
  count = var.release_account ? 1 : 0

  repository = aws_ecr_repository.mhp[0].name
  policy     = data.aws_iam_policy_document.pull.json
}

# The same digest in every region: ECR replicates each pushed image.
resource "aws_ecr_replication_configuration" "this" {
  count = var.release_account && length(var.replication_regions) > 0 ? 1 : 0

  replication_configuration {
    rule {
      dynamic "destination" {
        for_each = var.replication_regions
        content {
          region      = destination.value
          registry_id = local.account
        }
      }
      repository_filter {
        filter      = "mhp"
        filter_type = "PREFIX_MATCH"
      }
    }
  }
}

resource "aws_ecr_repository_creation_template" "replicas" {
  count = var.release_account && length(var.replication_regions) > 0 ? 1 : 0

  prefix               = "mhp"
  description          = "Replicas of the MHP image repository"
  applied_for          = ["REPLICATION"]
  image_tag_mutability = "IMMUTABLE"
  repository_policy    = data.aws_iam_policy_document.pull.json

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_registry_scanning_configuration" "this" {
  count = var.release_account ? 1 : 0

  scan_type = "ENHANCED"
  rule {
    scan_frequency = "CONTINUOUS_SCAN"
    repository_filter {
      filter      = "mhp"
      filter_type = "WILDCARD"
    }
  }
}
