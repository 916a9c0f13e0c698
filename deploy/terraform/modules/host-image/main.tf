# The hardened ECS host AMI, rebuilt on a schedule (issue 21): EC2 Image Builder takes the newest
# ECS-optimized Amazon Linux 2023 AMI (x86_64, the image's architecture), applies MHP's hardening
# component (no SSH, CIS-style kernel and audit settings, automatic security updates, ECS agent
# settings, SSM agent present), validates the result (no SSH server; agents and controls on),
# runs Image Builder's image tests and vulnerability scan, and writes the new AMI's id to
# the SSM parameter /mhp/<env>/ecs-host-ami. modules/ecs-app reads that parameter (variable
# ami_parameter_name): a new AMI is a new launch template version, which starts the group's
# instance refresh (the group follows aws_launch_template.latest_version).

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  # Image Builder resolves an "ssm:" parent at each build: every run starts from the newest
  # ECS-optimized AMI without a new recipe version.
  parent_parameter = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
  hardening        = file("${path.module}/hardening.yaml")
  # Components and recipes are immutable and named by version: the patch number follows their
  # content, so an edit of hardening.yaml (or of the recipe) is a new version, never a conflict
  # with the one in use.
  component_version = "${var.version_prefix}.${parseint(substr(sha256(local.hardening), 0, 6), 16)}"
  recipe_version = "${var.version_prefix}.${parseint(substr(sha256(jsonencode([
    local.component_version, local.parent_parameter, var.kms_key_arn, var.root_volume_gb,
  ])), 0, 6), 16)}"
}

# --- Components ----------------------------------------------------------------------------------

resource "aws_imagebuilder_component" "hardening" {
  name        = "${var.name}-ecs-host-hardening"
  description = "MHP ECS host hardening: no SSH, CIS-style sysctls, auditd, automatic security updates, ECS and SSM agents"
  platform    = "Linux"
  version     = local.component_version
  kms_key_id  = var.kms_key_arn
  data        = local.hardening
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_imagebuilder_image_recipe" "this" {
  name         = "${var.name}-ecs-host"
  description  = "ECS-optimized Amazon Linux 2023 (x86_64), hardened for MHP"
  parent_image = "ssm:${local.parent_parameter}"
  version      = local.recipe_version
  tags         = var.tags

  component {
    component_arn = aws_imagebuilder_component.hardening.arn
  }

  block_device_mapping {
    device_name = "/dev/xvda"
    ebs {
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      volume_size           = var.root_volume_gb
      volume_type           = "gp3"
      delete_on_termination = true
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

# --- Build instance: least privilege, IMDSv2, private subnet, outbound HTTPS only ----------------

data "aws_iam_policy_document" "build_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "build" {
  name                 = "${var.name}-image-build"
  assume_role_policy   = data.aws_iam_policy_document.build_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# The two policies AWS documents for an Image Builder build instance: SSM (how Image Builder
# drives the build) and Image Builder's own (components, logs of the build). Nothing else.
resource "aws_iam_role_policy_attachment" "build" {
  for_each = toset([
    "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:${local.partition}:iam::aws:policy/EC2InstanceProfileForImageBuilder",
  ])
  role       = aws_iam_role.build.name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "build" {
  name = "${var.name}-image-build"
  role = aws_iam_role.build.name
  tags = var.tags
}

resource "aws_security_group" "build" {
  name        = "${var.name}-image-build"
  description = "Image Builder build instances: outbound HTTPS only (SSM, package repositories)"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "build_https" {
  security_group_id = aws_security_group.build.id
  description       = "HTTPS to AWS APIs and package repositories (VPC endpoints, NAT)"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_imagebuilder_infrastructure_configuration" "this" {
  name                          = "${var.name}-ecs-host"
  description                   = "Build instances of the MHP ECS host image"
  instance_profile_name         = aws_iam_instance_profile.build.name
  instance_types                = [var.build_instance_type]
  subnet_id                     = var.subnet_id
  security_group_ids            = [aws_security_group.build.id]
  terminate_instance_on_failure = true
  tags                          = var.tags

  instance_metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

# --- Distribution: the AMI id into the parameter the launch template reads ------------------------

resource "aws_imagebuilder_distribution_configuration" "this" {
  name = "${var.name}-ecs-host"
  tags = var.tags

  distribution {
    region = local.region
    ami_distribution_configuration {
      name        = "${var.name}-ecs-host-{{ imagebuilder:buildDate }}"
      description = "MHP hardened ECS host (x86_64)"
      kms_key_id  = var.kms_key_arn
      ami_tags    = merge(var.tags, { "mhp:image" = "ecs-host" })
    }
    ssm_parameter_configuration {
      parameter_name = aws_ssm_parameter.ami.name
      data_type      = "aws:ec2:image"
    }
  }
}

# The parameter exists before the first build (modules/ecs-app reads it at plan time): it starts
# as the public ECS-optimized AMI and each successful build overwrites it.
data "aws_ssm_parameter" "parent" {
  name = local.parent_parameter
}

resource "aws_ssm_parameter" "ami" {
  #checkov:skip=CKV2_AWS_34:An AMI id is not a secret; the aws:ec2:image data type needs a String parameter.
  name        = "/mhp/${var.environment}/ecs-host-ami"
  description = "Newest hardened ECS host AMI (written by the Image Builder pipeline)"
  type        = "String"
  data_type   = "aws:ec2:image"
  value       = data.aws_ssm_parameter.parent.value
  tags        = var.tags

  lifecycle {
    ignore_changes = [value] # Image Builder's, after the first build
  }
}

# --- The pipeline, weekly ------------------------------------------------------------------------

resource "aws_imagebuilder_image_pipeline" "this" {
  name                             = "${var.name}-ecs-host"
  description                      = "Weekly hardened ECS host AMI"
  image_recipe_arn                 = aws_imagebuilder_image_recipe.this.arn
  infrastructure_configuration_arn = aws_imagebuilder_infrastructure_configuration.this.arn
  distribution_configuration_arn   = aws_imagebuilder_distribution_configuration.this.arn
  enhanced_image_metadata_enabled  = true
  status                           = "ENABLED"
  tags                             = var.tags

  schedule {
    schedule_expression = var.schedule_expression
    # A build even when the parent did not change: the hardening's security updates are newer.
    pipeline_execution_start_condition = "EXPRESSION_MATCH_ONLY"
    timezone                           = "Etc/UTC"
  }

  image_tests_configuration {
    image_tests_enabled = true
    timeout_minutes     = 60
  }

  image_scanning_configuration {
    image_scanning_enabled = true
  }
}
