mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}


run "hardened_task_and_service" {
  command = plan

  assert {
    condition     = jsondecode(aws_ecs_task_definition.app.container_definitions)[0].readonlyRootFilesystem && jsondecode(aws_ecs_task_definition.app.container_definitions)[0].user == "10001:10001"
    error_message = "mhp runs as uid 10001 on a read-only root file system"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.app.container_definitions)[0].healthCheck.command == ["CMD", "/usr/local/bin/mhp", "healthcheck"]
    error_message = "the container health check is the binary itself"
  }
  assert {
    condition     = aws_ecs_service.app.deployment_circuit_breaker[0].enable && aws_ecs_service.app.deployment_circuit_breaker[0].rollback
    error_message = "a failing deployment rolls back automatically"
  }
  assert {
    condition     = !aws_ecs_service.app.network_configuration[0].assign_public_ip
    error_message = "tasks have no public IP"
  }
  assert {
    condition     = aws_ecs_service.app.network_configuration[0].subnets == toset(var.private_subnet_ids)
    error_message = "tasks run in private subnets"
  }
  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "IMDSv2 only, encrypted volumes"
  }
  assert {
    condition     = aws_lb.this.drop_invalid_header_fields && aws_lb.this.enable_deletion_protection
    error_message = "the load balancer drops invalid headers and is deletion-protected by default"
  }
  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13")
    error_message = "TLS 1.2+ listener only"
  }
  assert {
    condition     = aws_lb_target_group.app.health_check[0].path == "/readyz"
    error_message = "the load balancer asks /readyz"
  }
  assert {
    condition     = aws_iam_role.app.name != aws_iam_role.execution.name
    error_message = "task and execution roles are separate"
  }
  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_ENVIRONMENT", value = "production" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_OBJECT_STORE_BACKEND", value = "s3" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_OBJECT_STORE_BUCKET", value = "mhp-test-123456789012-data" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_OBJECT_STORE_KMS_KEY_ID", value = var.kms_key_arn }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_HTTP_TRUSTED_PROXIES", value = var.vpc_cidr }),
    ])
    error_message = "the app runs as production on the shared data bucket and trusts forwarded addresses only from inside the VPC"
  }
  assert {
    condition     = !contains([for e in jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment : e.name], "MHP_INDEX_BACKEND")
    error_message = "without a documents domain the app keeps the embedded index"
  }
}

run "documents_domain_signed_with_the_task_role" {
  command = plan
  variables {
    search_opensearch_url   = "https://vpc-mhp-docs-abc.eu-west-1.es.amazonaws.com"
    siem_opensearch_url     = "https://vpc-mhp-siem-abc.eu-west-1.es.amazonaws.com"
    security_log_group_name = "/mhp/mhp-test/security"
    security_log_group_arn  = "arn:aws:logs:eu-west-1:123456789012:log-group:/mhp/mhp-test/security"
  }
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_SECURITY_CLOUDWATCH_LOG_GROUP", value = "/mhp/mhp-test/security" })
    error_message = "security events go to the security log group as well"
  }
  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_SECURITY_OPENSEARCH_URL", value = "https://vpc-mhp-siem-abc.eu-west-1.es.amazonaws.com" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_SECURITY_OPENSEARCH_AUTH", value = "aws-sigv4" }),
    ])
    error_message = "security events go to the SIEM domain, signed with the task role"
  }
  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_INDEX_BACKEND", value = "opensearch" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_INDEX_OPENSEARCH_URL", value = "https://vpc-mhp-docs-abc.eu-west-1.es.amazonaws.com" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_INDEX_OPENSEARCH_AUTH", value = "aws-sigv4" }),
    ])
    error_message = "the document index is the IAM-only domain, each request signed (SigV4) with the task role"
  }
}

run "tags_are_refused" {
  command = plan
  variables {
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp:latest"
  }
  expect_failures = [var.image]
}
