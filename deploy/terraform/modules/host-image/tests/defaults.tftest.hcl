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
  mock_data "aws_ssm_parameter" {
    defaults = { value = "ami-0123456789abcdef0" }
  }
}

variables {
  name                     = "mhp-test"
  environment              = "test"
  vpc_id                   = "vpc-0123456789abcdef0"
  subnet_id                = "subnet-a"
  kms_key_arn              = "arn:aws:kms:us-east-1:123456789012:key/data"
  permissions_boundary_arn = "arn:aws:iam::123456789012:policy/mhp-test-boundary"
}

run "pipeline_builds_weekly" {
  command = plan

  assert {
    condition     = aws_imagebuilder_image_pipeline.this.status == "ENABLED" && length(aws_imagebuilder_image_pipeline.this.schedule) == 1 && aws_imagebuilder_image_pipeline.this.schedule[0].schedule_expression == "cron(0 3 ? * sun *)"
    error_message = "the pipeline runs on a weekly schedule"
  }
  assert {
    condition     = aws_imagebuilder_image_pipeline.this.schedule[0].pipeline_execution_start_condition == "EXPRESSION_MATCH_ONLY"
    error_message = "the pipeline builds every week, not only when the parent AMI changes (security updates)"
  }
  assert {
    condition     = aws_imagebuilder_image_recipe.this.parent_image == "ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    error_message = "the parent is the newest ECS-optimized Amazon Linux 2023 x86_64 AMI, resolved at each build"
  }
  assert {
    condition     = one(one(aws_imagebuilder_distribution_configuration.this.distribution).ssm_parameter_configuration).parameter_name == "/mhp/test/ecs-host-ami" && aws_ssm_parameter.ami.name == "/mhp/test/ecs-host-ami" && output.ami_parameter_name == "/mhp/test/ecs-host-ami"
    error_message = "each build writes its AMI id to /mhp/<env>/ecs-host-ami, the parameter the launch template reads"
  }
}

run "hardening_component_removes_ssh" {
  command = plan

  override_resource {
    target          = aws_imagebuilder_component.hardening
    override_during = plan
    values          = { arn = "arn:aws:imagebuilder:us-east-1:123456789012:component/mhp-test-ecs-host-hardening/1.0.0/1" }
  }

  assert {
    condition     = contains([for c in aws_imagebuilder_image_recipe.this.component : c.component_arn], aws_imagebuilder_component.hardening.arn)
    error_message = "the recipe applies the hardening component"
  }
  assert {
    condition = alltrue([for s in [
      "dnf -y remove openssh-server", "systemctl mask sshd.service", "90-mhp-cis.conf", "auditd.service",
      "dnf-automatic.timer", "amazon-ssm-agent", "ECS_DISABLE_PRIVILEGED=true", "net.ipv4.conf.all.accept_redirects = 0",
    ] : strcontains(aws_imagebuilder_component.hardening.data, s)])
    error_message = "the hardening removes SSH, sets CIS-style sysctls, enables auditd, automatic security updates, the SSM agent and ECS agent settings"
  }
  assert {
    condition     = strcontains(aws_imagebuilder_component.hardening.data, "if rpm -q openssh-server")
    error_message = "the image's validation fails if an SSH server is left on it"
  }
  assert {
    condition     = one(one(aws_imagebuilder_image_recipe.this.block_device_mapping).ebs).encrypted == "true" || one(one(aws_imagebuilder_image_recipe.this.block_device_mapping).ebs).encrypted == true
    error_message = "the image's volume is encrypted"
  }
}

run "build_instance_is_least_privilege" {
  command = plan

  assert {
    condition     = aws_iam_role.build.permissions_boundary == var.permissions_boundary_arn
    error_message = "the build role carries the permissions boundary"
  }
  assert {
    condition = toset(keys(aws_iam_role_policy_attachment.build)) == toset([
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    ])
    error_message = "the build instance has only the SSM core and Image Builder instance policies"
  }
  assert {
    condition     = aws_imagebuilder_infrastructure_configuration.this.instance_metadata_options[0].http_tokens == "required" && aws_imagebuilder_infrastructure_configuration.this.terminate_instance_on_failure
    error_message = "build instances require IMDSv2 and are terminated on failure"
  }
}

run "unscheduled_expression_is_refused" {
  command = plan
  variables {
    schedule_expression = "rate(7 days)"
  }
  expect_failures = [var.schedule_expression]
}

# Components and recipes are immutable: an edit of the hardening is a new version (apply-time:
# the same name and version with new content is refused).
run "new_hardening_is_a_new_version" {
  command = plan

  assert {
    condition     = can(regex("^1\\.0\\.[0-9]+$", aws_imagebuilder_component.hardening.version)) && aws_imagebuilder_component.hardening.version == "1.0.${parseint(substr(sha256(file("${path.module}/hardening.yaml")), 0, 6), 16)}"
    error_message = "the component's version follows hardening.yaml's content"
  }
  assert {
    condition     = can(regex("^1\\.0\\.[0-9]+$", aws_imagebuilder_image_recipe.this.version))
    error_message = "the recipe's version is <major>.<minor>.<content>"
  }
}
