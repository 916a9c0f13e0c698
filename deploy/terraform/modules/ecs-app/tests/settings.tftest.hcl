# What the app's tasks are told agrees with what the application needs (the names themselves are
# checked against the binary by deploy/check_app_config.py in scripts/check-deploy.sh).
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
  image                    = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  collector_config         = "receivers: {}"
  vpc_id                   = "vpc-0123456789abcdef0"
  vpc_cidr                 = "10.40.0.0/16"
  public_subnet_ids        = ["subnet-p1", "subnet-p2", "subnet-p3"]
  private_subnet_ids       = ["subnet-a", "subnet-b", "subnet-c"]
  certificate_arn          = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  access_log_bucket        = "mhp-test-123456789012-logs"
  kms_key_arn              = "arn:aws:kms:us-east-1:123456789012:key/data"
  app_kms_key_arn          = "arn:aws:kms:us-east-1:123456789012:key/app"
  secrets_kms_key_arn      = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  secret_env               = { DATABASE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/database-url", MHP_KEYS_STORE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/key-store-url" }
  data_bucket_arn          = "arn:aws:s3:::mhp-test-123456789012-data"
  audit_exports_bucket_arn = "arn:aws:s3:::mhp-test-123456789012-audit-exports"
  opensearch_domain_arns   = ["arn:aws:es:us-east-1:123456789012:domain/mhp-test-docs"]
  search_opensearch_url    = "https://vpc-mhp-test-docs.us-east-1.es.amazonaws.com"
  log_group_name           = "/mhp/mhp-test/app"
  collector_log_group_arn  = "arn:aws:logs:us-east-1:123456789012:log-group:/mhp/mhp-test/collector"
  public_url               = "https://mhp.example.org"
  backup_to                = "s3://mhp-test-123456789012-backups/mhp"
  backup_keys_to           = "s3://mhp-test-123456789012-key-backups/mhp"
  backup_bucket_arns       = ["arn:aws:s3:::mhp-test-123456789012-backups", "arn:aws:s3:::mhp-test-123456789012-key-backups"]
}

run "public_url_backups_and_index_reach_the_tasks" {
  command = plan

  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_HTTP_PUBLIC_URL", value = "https://mhp.example.org" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_BACKUP_TO", value = var.backup_to }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_BACKUP_KEYS_TO", value = var.backup_keys_to }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_INDEX_BACKEND", value = "opensearch" }),
      contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_INDEX_OPENSEARCH_URL", value = var.search_opensearch_url }),
    ])
    error_message = "the app is told its public address, its backup destinations in S3 and the shared index"
  }
  assert {
    condition     = output.shared_environment["MHP_HTTP_PUBLIC_URL"] == var.public_url && output.shared_environment["MHP_INDEX_BACKEND"] == "opensearch" && !contains(keys(output.shared_environment), "MHP_LISTEN")
    error_message = "the workers share the public address and the index, not the listen address"
  }
}

run "migrations_run_before_serve_takes_traffic" {
  command = plan

  assert {
    condition = alltrue([
      jsondecode(aws_ecs_task_definition.app.container_definitions)[0].name == "mhp",
      jsondecode(aws_ecs_task_definition.app.container_definitions)[0].dependsOn == [{ containerName = "migrate", condition = "SUCCESS" }],
      jsondecode(aws_ecs_task_definition.app.container_definitions)[1].name == "migrate",
      jsondecode(aws_ecs_task_definition.app.container_definitions)[1].command == ["migrate"],
      !jsondecode(aws_ecs_task_definition.app.container_definitions)[1].essential,
    ])
    error_message = "each new task runs `mhp migrate` to success before `mhp serve` starts"
  }
}

run "metrics_never_answer_the_internet" {
  command = plan

  assert {
    condition = alltrue([
      aws_lb_listener_rule.metrics_stay_inside.priority == 1,
      contains(flatten([for c in aws_lb_listener_rule.metrics_stay_inside.condition : [for p in c.path_pattern : p.values]]), "/metrics"),
      aws_lb_listener_rule.metrics_stay_inside.action[0].type == "fixed-response",
      aws_lb_listener_rule.metrics_stay_inside.action[0].fixed_response[0].status_code == "404",
    ])
    error_message = "the public listener answers /metrics itself (404) before any rule forwards it"
  }
}

run "backups_never_go_to_a_tasks_volume" {
  command = plan
  variables {
    backup_to = "/data/backups"
  }
  expect_failures = [var.backup_to]
}

run "the_public_url_is_https_without_a_path" {
  command = plan
  variables {
    public_url = "http://0.0.0.0:8080/"
  }
  expect_failures = [var.public_url]
}
