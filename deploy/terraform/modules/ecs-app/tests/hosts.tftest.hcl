mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}


# Apply-time (deploy/README.md, "Apply-time checks"): what a mock provider accepts but AWS would
# not run - hosts of the wrong architecture, a launch template version that never reaches the
# instances, a demo teardown that waits forever for protected instances.

run "x86_64_hosts_by_default" {
  command = plan

  assert {
    condition     = var.architecture == "x86_64" && data.aws_ssm_parameter.ecs_ami.name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    error_message = "x86_64 hosts boot the x86_64 ECS-optimized AMI (the image is linux/amd64)"
  }
  assert {
    condition     = aws_launch_template.this.instance_type == "m7i.large"
    error_message = "the default instance type is x86_64"
  }
}

run "arm64_hosts_read_the_arm64_ami" {
  command = plan
  variables {
    architecture  = "arm64"
    instance_type = "m7g.large"
  }
  assert {
    condition     = data.aws_ssm_parameter.ecs_ami.name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
    error_message = "arm64 hosts boot the arm64 ECS-optimized AMI"
  }
}

run "graviton_type_on_x86_64_is_refused" {
  command = plan
  variables {
    instance_type = "m7g.large"
  }
  expect_failures = [aws_launch_template.this]
}

run "graviton_type_with_a_suffix_on_x86_64_is_refused" {
  command = plan
  variables {
    instance_type = "r7gd.xlarge"
  }
  expect_failures = [aws_launch_template.this]
}

run "burstable_graviton_on_x86_64_is_refused" {
  command = plan
  variables {
    instance_type = "t4g.large"
  }
  expect_failures = [aws_launch_template.this]
}

run "x86_64_type_on_arm64_is_refused" {
  command = plan
  variables {
    architecture  = "arm64"
    instance_type = "c6in.large" # an x86_64 family whose letters after the digit are not g
  }
  expect_failures = [aws_launch_template.this]
}

run "new_launch_template_version_refreshes_the_instances" {
  command = plan

  override_resource {
    target          = aws_launch_template.this
    override_during = plan
    values          = { id = "lt-0123456789abcdef0", latest_version = 3 }
  }

  assert {
    condition     = !contains(["$Latest", "$Default"], aws_autoscaling_group.this.launch_template[0].version)
    error_message = "the group names a launch template version number: with \"$Latest\" a new version never changes the group, so no instance refresh starts"
  }
  assert {
    condition     = aws_autoscaling_group.this.launch_template[0].version == "3"
    error_message = "the group follows the launch template's latest version"
  }
  assert {
    condition     = aws_autoscaling_group.this.instance_refresh[0].strategy == "Rolling"
    error_message = "a changed launch template rolls the instances"
  }
}

run "protected_hosts_by_default" {
  command = plan

  assert {
    condition     = !aws_autoscaling_group.this.force_delete && aws_autoscaling_group.this.protect_from_scale_in
    error_message = "instances running tasks are protected from scale-in, and not force-deleted"
  }
  assert {
    condition     = aws_ecs_capacity_provider.this.auto_scaling_group_provider[0].managed_termination_protection == "ENABLED"
    error_message = "managed termination protection is on (it needs protect_from_scale_in)"
  }
}

run "force_delete_lets_teardown_finish" {
  command = plan
  variables {
    force_delete = true
  }
  assert {
    condition     = aws_autoscaling_group.this.force_delete && !aws_autoscaling_group.this.protect_from_scale_in
    error_message = "force_delete: destroy terminates the instances instead of waiting for protected ones"
  }
  assert {
    condition     = aws_ecs_capacity_provider.this.auto_scaling_group_provider[0].managed_termination_protection == "DISABLED"
    error_message = "without scale-in protection the capacity provider's managed termination protection is off"
  }
}
