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
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn                  = "arn:aws:ecs:us-east-1:123456789012:task-definition/mhp-test-worker:1"
      arn_without_revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/mhp-test-worker"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mhp-test-role" }
  }
}

variables {
  name                = "mhp-test"
  image               = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
  cluster_arn         = "arn:aws:ecs:us-east-1:123456789012:cluster/mhp-test"
  vpc_id              = "vpc-0123456789abcdef0"
  vpc_cidr            = "10.40.0.0/16"
  private_subnet_ids  = ["subnet-a", "subnet-b"]
  kms_key_arn         = "arn:aws:kms:us-east-1:123456789012:key/data"
  app_kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/app"
  secrets_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/secrets"
  secret_env          = { DATABASE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/database-url", MHP_KEYS_STORE_URL = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mhp/test/key-store-url" }
  data_bucket_arn     = "arn:aws:s3:::mhp-test-123456789012-data"
  log_group_name      = "/mhp/mhp-test/worker"
  backup_bucket_arns  = ["arn:aws:s3:::mhp-test-123456789012-backups", "arn:aws:s3:::mhp-test-123456789012-key-backups"]
  environment_variables = {
    MHP_HTTP_PUBLIC_URL = "https://mhp.example.org"
    MHP_BACKUP_TO       = "s3://mhp-test-123456789012-backups/mhp"
  }
}

run "fargate_private_workers_and_jobs" {
  command = plan

  assert {
    condition     = aws_ecs_task_definition.worker.requires_compatibilities == toset(["FARGATE"])
    error_message = "pipelines run on Fargate"
  }
  assert {
    condition     = alltrue([for c in jsondecode(aws_ecs_task_definition.worker.container_definitions) : c.readonlyRootFilesystem && c.user == "10001:10001"])
    error_message = "workers run as uid 10001 on a read-only root file system"
  }
  assert {
    condition     = !aws_ecs_service.worker.network_configuration[0].assign_public_ip
    error_message = "no public IP"
  }
  assert {
    condition     = aws_ecs_service.worker.desired_count >= 1 && alltrue([for j in ["backup-create", "backup-key-store", "backup-prune", "backup-prune-keys", "backup-drill"] : aws_scheduler_schedule.job[j].state == "ENABLED"])
    error_message = "a worker runs; the daily backups (data and key store), their pruning and the weekly restore drill are scheduled by default"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.job["backup-drill"].target[0].input).containerOverrides == [{ name = "worker", command = ["backup", "drill"] }]
    error_message = "the restore drill runs `mhp backup drill` in the worker container"
  }
  assert {
    condition = alltrue([
      jsondecode(aws_ecs_task_definition.worker.container_definitions)[1].name == "migrate",
      jsondecode(aws_ecs_task_definition.worker.container_definitions)[1].command == ["migrate"],
      !jsondecode(aws_ecs_task_definition.worker.container_definitions)[1].essential,
      jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].dependsOn == [{ containerName = "migrate", condition = "SUCCESS" }],
    ])
    error_message = "the worker starts only after `mhp migrate` succeeded in its task"
  }
  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_HTTP_PUBLIC_URL", value = "https://mhp.example.org" }),
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_BACKUP_TO", value = "s3://mhp-test-123456789012-backups/mhp" }),
    ])
    error_message = "the worker takes the settings the app's tasks share"
  }
  assert {
    condition     = length(toset([aws_iam_role.worker.name, aws_iam_role.execution.name, aws_iam_role.scheduler.name])) == 3
    error_message = "worker, worker execution and scheduler have their own roles"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.scheduler.statement : s.actions if s.sid == "PassWorkerRoles"]) == toset(["iam:PassRole"])
    error_message = "the scheduler passes only the worker's roles"
  }
  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_KEYS_PROVIDER", value = "aws-kms" }),
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_KEYS_KMS_KEY_ID", value = var.app_kms_key_arn }),
      contains([for s in jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].secrets : s.name], "MHP_KEYS_STORE_URL"),
      length([for e in jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment : e if e.name == "MHP_KEYS_MASTER_KEY_FILE"]) == 0,
    ])
    error_message = "the worker unwraps the installation root from the shared key store through KMS, as the app does; no key file"
  }
  assert {
    condition = alltrue([
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_ENVIRONMENT", value = "production" }),
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_OBJECT_STORE_BACKEND", value = "s3" }),
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_OBJECT_STORE_BUCKET", value = split(":::", var.data_bucket_arn)[1] }),
      contains(jsondecode(aws_ecs_task_definition.worker.container_definitions)[0].environment, { name = "MHP_OBJECT_STORE_KMS_KEY_ID", value = var.kms_key_arn }),
    ])
    error_message = "the worker runs as production on the shared data bucket, as the app does"
  }
}

run "a_schedule_never_runs_a_server" {
  command = plan
  variables {
    schedules = { forever = { expression = "rate(1 day)", command = ["worker"] } }
  }
  expect_failures = [var.schedules]
}
