# Pipelines (C4) as ECS Fargate tasks in the app's cluster: a worker service (`mhp worker`:
# pipeline workers and MHP's own scheduler, which starts the organisations' scheduled runs under
# leases), and operational jobs started by EventBridge Scheduler as one-off tasks of the worker's
# task definition running an `mhp` command (by default the daily backups of the system of record
# and of the key store, their pruning, and the weekly restore drill).
#
# Roles, each its own: worker (task role: the data and backup buckets, the app key and the
# earlier app keys that still unwrap, the OpenSearch domains, the security log group and, with var.mail, sending e-mail through the
# environment's SES identity as its one sender), worker execution (image, secrets, logs),
# scheduler (EventBridge Scheduler may run only this task definition in this cluster and pass
# only the worker's roles).

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # The settings the app's tasks share (public URL, backups, index, security sinks) under the
  # worker's own.
  container_env = [for k, v in merge({
    MHP_ENVIRONMENT           = "production"
    MHP_DATA_DIR              = "/data"
    MHP_LOG_FORMAT            = "json"
    MHP_DATABASE_AUTO_MIGRATE = "false" # the task's migrate container runs first
    # The installation root and the wrapped keys come from the key store (MHP_KEYS_STORE_URL,
    # a secret), unwrapped by the app's KMS key, as in the app's tasks: no key file per task.
    MHP_KEYS_PROVIDER   = "aws-kms"
    MHP_KEYS_KMS_KEY_ID = var.app_kms_key_arn
    MHP_AWS_REGION      = data.aws_region.current.name
    # The objects the app's tasks write, in the shared data bucket (SSE-KMS, data key).
    MHP_OBJECT_STORE_BACKEND    = "s3"
    MHP_OBJECT_STORE_BUCKET     = split(":::", var.data_bucket_arn)[1]
    MHP_OBJECT_STORE_KMS_KEY_ID = var.kms_key_arn
  }, local.key_env, local.mail_env, var.environment_variables) : { name = k, value = v }]
  # Moved to another KMS key (deploy/README.md "Multi-Region keys: the migration"), as in the
  # app's tasks: the master version app_kms_key_arn wraps as, and the earlier keys that still
  # unwrap (VERSION=KEY); neither set without them (MHP's default: version 1, no earlier key).
  key_env = merge(var.app_kms_key_version == null ? {} : {
    MHP_KEYS_KMS_KEY_VERSION = tostring(var.app_kms_key_version)
    }, length(var.app_kms_previous_key_arns) == 0 ? {} : {
    MHP_KEYS_KMS_PREVIOUS_KEY_IDS = join(",", [for v, k in var.app_kms_previous_key_arns : "${v}=${k}"])
  })
  # E-mail (the alerts pipelines raise, and any mail a job sends) through Amazon SES
  # (modules/mail), as in the app's tasks; the worker role may send only as this sender.
  # Without it MHP keeps its default transport (the outbox directory in the task's volume).
  mail_env = var.mail == null ? {} : {
    MHP_MAIL_TRANSPORT             = "ses"
    MHP_MAIL_FROM                  = var.mail.from
    MHP_MAIL_SES_CONFIGURATION_SET = var.mail.configuration_set_name
  }
  container_secrets = [for k, arn in var.secret_env : { name = k, valueFrom = arn }]
  # What both containers of a worker task share: the image, the hardening, the settings, the
  # data volume.
  worker_container = {
    image                  = var.image
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    environment            = local.container_env
    secrets                = local.container_secrets
    mountPoints            = [{ sourceVolume = "data", containerPath = "/data", readOnly = false }]
    linuxParameters        = { capabilities = { drop = ["ALL"] } }
  }
  log_options = {
    awslogs-group         = var.log_group_name
    awslogs-region        = data.aws_region.current.name
    awslogs-stream-prefix = "worker"
  }
}

data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-worker-execution"
  assume_role_policy   = data.aws_iam_policy_document.tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.secret_env)
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-worker-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

resource "aws_iam_role" "worker" {
  name                 = "${var.name}-worker"
  assume_role_policy   = data.aws_iam_policy_document.tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "PipelineObjects"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.data_bucket_arn}/*"]
  }
  statement {
    # Backups (the in-product schedule may run them here) and the restore drill's reads.
    sid       = "BackupObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for b in var.backup_bucket_arns : "${b}/*"]
  }
  statement {
    sid       = "BucketLists"
    actions   = ["s3:ListBucket"]
    resources = concat([var.data_bucket_arn], var.backup_bucket_arns)
  }
  statement {
    # The app key (and the earlier ones that still unwrap until `mhp keys rewrap` has moved
    # everything off them), and the data key.
    sid       = "EnvelopeKeys"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = concat([var.app_kms_key_arn, var.kms_key_arn], values(var.app_kms_previous_key_arns))
  }
  dynamic "statement" {
    for_each = length(var.opensearch_domain_arns) > 0 ? [1] : []
    content {
      sid       = "OpenSearch"
      actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
      resources = [for d in var.opensearch_domain_arns : "${d}/*"]
    }
  }
  dynamic "statement" {
    for_each = var.security_log_group_arn == null ? [] : [1]
    content {
      sid       = "SecurityEvents"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${var.security_log_group_arn}:*"]
    }
  }
  dynamic "statement" {
    # SES v2 SendEmail (raw MIME) and v1 SendRawEmail, only through the environment's identity
    # and configuration set, only as the one sender.
    for_each = var.mail == null ? [] : [var.mail]
    content {
      sid       = "SendMailThroughSes"
      actions   = ["ses:SendEmail", "ses:SendRawEmail"]
      resources = [statement.value.identity_arn, statement.value.configuration_set_arn]
      condition {
        test     = "StringEquals"
        variable = "ses:FromAddress"
        values   = [statement.value.from_address]
      }
    }
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "mhp-worker"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

resource "aws_security_group" "worker" {
  name        = "${var.name}-worker"
  description = "MHP workers: no inbound; HTTPS and PostgreSQL out"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "worker_https" {
  security_group_id = aws_security_group.worker.id
  description       = "HTTPS to AWS APIs"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "worker_postgres" {
  security_group_id = aws_security_group.worker.id
  description       = "PostgreSQL inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  from_port         = 5432
  to_port           = 5432
  ip_protocol       = "tcp"
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "${var.name}-worker"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.worker.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  ephemeral_storage {
    size_in_gib = 21
  }

  volume {
    name = "data"
  }

  container_definitions = jsonencode([
    merge(local.worker_container, {
      name             = "worker"
      essential        = true
      command          = ["worker"]
      dependsOn        = [{ containerName = "migrate", condition = "SUCCESS" }]
      logConfiguration = { logDriver = "awslogs", options = local.log_options }
    }),
    # Migrations before the new code starts (as in the app's tasks; the advisory lock makes
    # concurrent runs take turns).
    merge(local.worker_container, {
      name             = "migrate"
      essential        = false
      command          = ["migrate"]
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "migrate" }) }
    }),
  ])
}

resource "aws_ecs_service" "worker" {
  name                   = "mhp-worker"
  cluster                = var.cluster_arn
  task_definition        = aws_ecs_task_definition.worker.arn
  desired_count          = var.worker_count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = false
  propagate_tags         = "SERVICE"
  tags                   = var.tags

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = false
  }
}

# --- Scheduled pipelines ------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name                 = "${var.name}-scheduler"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "RunPipelineTask"
    actions   = ["ecs:RunTask"]
    resources = ["${trimsuffix(aws_ecs_task_definition.worker.arn_without_revision, ":")}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    sid       = "PassWorkerRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.worker.arn, aws_iam_role.execution.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-pipelines"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule_group" "this" {
  name = var.name
  tags = var.tags
}

resource "aws_scheduler_schedule" "job" {
  for_each = var.schedules

  name                         = each.key
  group_name                   = aws_scheduler_schedule_group.this.name
  schedule_expression          = each.value.expression
  schedule_expression_timezone = "UTC"
  state                        = var.schedules_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      containerOverrides = [{ name = "worker", command = each.value.command }]
    })
    retry_policy {
      maximum_retry_attempts       = 2
      maximum_event_age_in_seconds = 3600
    }
    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.worker.arn
      launch_type         = "FARGATE"
      network_configuration {
        subnets          = var.private_subnet_ids
        security_groups  = [aws_security_group.worker.id]
        assign_public_ip = false
      }
    }
  }
}
