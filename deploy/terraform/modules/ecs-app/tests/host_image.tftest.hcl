mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}


# Hardened host images (deploy/README.md, "Hardened host images"): the launch template's AMI is
# the one modules/host-image's pipeline wrote to its parameter; a new AMI there is a new launch
# template version, which the group follows (hosts.tftest.hcl,
# new_launch_template_version_refreshes_the_instances) and so refreshes the instances.

run "launch_template_reads_the_pipelines_parameter" {
  command = plan
  variables {
    ami_parameter_name = "/mhp/test/ecs-host-ami"
  }
  override_data {
    target = data.aws_ssm_parameter.ecs_ami
    values = { value = "ami-0hardened000000001" }
  }

  assert {
    condition     = data.aws_ssm_parameter.ecs_ami.name == "/mhp/test/ecs-host-ami"
    error_message = "given the pipeline's parameter, the hosts' AMI is read from it"
  }
  assert {
    condition     = aws_launch_template.this.image_id == "ami-0hardened000000001"
    error_message = "the launch template boots the AMI in the pipeline's parameter"
  }
}

run "public_ecs_ami_without_a_pipeline" {
  command = plan

  assert {
    condition     = data.aws_ssm_parameter.ecs_ami.name == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    error_message = "without a pipeline, the hosts boot AWS's ECS-optimized AMI of their architecture"
  }
}
