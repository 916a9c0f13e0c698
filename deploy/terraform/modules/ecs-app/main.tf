# The MHP application: `mhp serve` on ECS with an EC2 autoscaling group (capacity provider with
# managed scaling), behind an internet-facing application load balancer that terminates TLS
# (TLS 1.2+/1.3 policy, invalid headers dropped, access logs, WAF from modules/waf).
# Tasks run in private subnets (awsvpc, no public IP) as uid 10001 with a read-only root file
# system, are pinned to an image digest, answer the ECS health check with `mhp healthcheck`, and
# are replaced by rolling deployments whose circuit breaker rolls back a failing release.
# Roles: the execution role may pull the image, read the app's secrets and write its logs; the
# task role (app) may use the data bucket, the app key (and the earlier app keys that still
# unwrap, app_kms_previous_key_arns) and the OpenSearch domains, and send e-mail
# through the environment's SES identity as its one sender (with var.mail) - nothing else.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  port = 8080
  # A recovery environment standing by (standby_count): 0 tasks (pilot light) or a few (warm),
  # no container host kept running but what placed tasks need.
  standing_by       = var.standby_count != null
  app_min_count     = local.standing_by ? var.standby_count : var.desired_count
  partition         = data.aws_partition.current.partition
  container_secrets = [for k, arn in var.secret_env : { name = k, valueFrom = arn }]
  data_bucket       = split(":::", var.data_bucket_arn)[1]
  container_env = [for k, v in merge({
    # Production refuses to start on anything kept in one task's volume (a local key ring, a
    # local object store, SQLite), naming what is missing.
    MHP_ENVIRONMENT           = "production"
    MHP_LISTEN                = "0.0.0.0:${local.port}"
    MHP_DATA_DIR              = "/data"
    MHP_LOG_FORMAT            = "json"
    MHP_DATABASE_AUTO_MIGRATE = "false" # the task's migrate container runs `mhp migrate` before serve starts
    # Envelope encryption: organisation keys wrapped by the app's KMS key; the wrapped keys live
    # in the key store (MHP_KEYS_STORE_URL, a database apart from the system of record).
    MHP_KEYS_PROVIDER   = "aws-kms"
    MHP_KEYS_KMS_KEY_ID = var.app_kms_key_arn
    MHP_AWS_REGION      = data.aws_region.current.name
    # Raw recordings, artifacts and archives in the data bucket every task shares, encrypted by
    # S3 under the data key (SSE-KMS) on top of MHP's sealing. Credentials: the task role, from
    # the container credentials endpoint.
    MHP_OBJECT_STORE_BACKEND    = "s3"
    MHP_OBJECT_STORE_BUCKET     = local.data_bucket
    MHP_OBJECT_STORE_KMS_KEY_ID = var.kms_key_arn
    # Client addresses (sign-in throttling, security events) are read from X-Forwarded-For only
    # when the connection comes from the load balancer, inside the VPC.
    MHP_HTTP_TRUSTED_PROXIES = var.vpc_cidr
    # Spans to the collector sidecar (OTLP/HTTP on the task's loopback), which sends them on
    # to X-Ray.
    MHP_TELEMETRY_OTLP_ENDPOINT = "http://127.0.0.1:4318/v1/traces"
  }, local.key_env, local.shared_env, local.mail_env, var.environment_variables) : { name = k, value = v }]

  # Moved to another KMS key (deploy/README.md "Multi-Region keys: the migration"): the master
  # version app_kms_key_arn wraps as, and the earlier keys that still unwrap what they wrapped
  # (VERSION=KEY). Neither is set without them: MHP's default is version 1 and no earlier key.
  key_env = merge(var.app_kms_key_version == null ? {} : {
    MHP_KEYS_KMS_KEY_VERSION = tostring(var.app_kms_key_version)
    }, length(var.app_kms_previous_key_arns) == 0 ? {} : {
    MHP_KEYS_KMS_PREVIOUS_KEY_IDS = join(",", [for v, k in var.app_kms_previous_key_arns : "${v}=${k}"])
  })

  # E-mail (invitations, password resets, alerts) through Amazon SES (modules/mail), signed with
  # the task role, which may send only as this sender (statement SendMailThroughSes). Without
  # it MHP keeps its default transport: the outbox directory in the task's volume.
  mail_env = var.mail == null ? {} : {
    MHP_MAIL_TRANSPORT             = "ses"
    MHP_MAIL_FROM                  = var.mail.from
    MHP_MAIL_SES_CONFIGURATION_SET = var.mail.configuration_set_name
  }

  # What both MHP containers of a task share: the image, the hardening (uid 10001, read-only
  # root, no capabilities), the settings and the data volume.
  mhp_container = {
    image                  = var.image
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    privileged             = false
    environment            = local.container_env
    secrets                = local.container_secrets
    mountPoints            = [{ sourceVolume = "data", containerPath = "/data", readOnly = false }]
    linuxParameters        = { capabilities = { drop = ["ALL"] }, initProcessEnabled = false }
  }
  log_options = {
    awslogs-group  = var.log_group_name
    awslogs-region = data.aws_region.current.name
  }

  # What every MHP task of the installation shares with the app's (the pipeline workers take it
  # as it is): the public address, the backups' destinations, the index and the security sinks.
  shared_env = merge({
    # Sign-in links, SSO redirects and the token issuer name the public address, never the
    # listen address.
    MHP_HTTP_PUBLIC_URL = var.public_url
    # Where `mhp backup` writes (the scheduled jobs of modules/ecs-pipelines; on PostgreSQL
    # backup.schedule does not run in the tasks): S3, the data and the key store in buckets
    # apart. Production refuses a backup into a task's data directory.
    MHP_BACKUP_TO      = var.backup_to
    MHP_BACKUP_KEYS_TO = var.backup_keys_to
    }, var.siem_opensearch_url == null ? {} : {
    # Security events to the SIEM domain as well, signed with the task role.
    MHP_SECURITY_OPENSEARCH_URL  = var.siem_opensearch_url
    MHP_SECURITY_OPENSEARCH_AUTH = "aws-sigv4"
    }, var.security_log_group_name == null ? {} : {
    # Security events to CloudWatch Logs as well, one stream per task.
    MHP_SECURITY_CLOUDWATCH_LOG_GROUP = var.security_log_group_name
    }, var.syslog_address == null ? {} : {
    # Security events to the Wazuh manager as well (modules/wazuh), RFC 5424 over TLS; its
    # certificate is ACM's, which MHP trusts without security.syslog_ca_file.
    MHP_SECURITY_SYSLOG_ADDRESS = var.syslog_address
    }, var.search_opensearch_url == null ? {} : {
    # The document index on the IAM-only domain: requests signed with the task role.
    MHP_INDEX_BACKEND         = "opensearch"
    MHP_INDEX_OPENSEARCH_URL  = var.search_opensearch_url
    MHP_INDEX_OPENSEARCH_AUTH = "aws-sigv4"
  })
}

# --- Cluster and EC2 capacity -------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags
  setting {
    name  = "containerInsights"
    value = "enhanced"
  }
}

# The ECS-optimized Amazon Linux 2023 AMI of the hosts' architecture, which must be the image's
# (scripts/build-image.sh, checked by deploy/terraform/check_architecture.py).
# ami_parameter_name: the hardened AMI of modules/host-image (/mhp/<env>/ecs-host-ami, x86_64),
# else AWS's public parameter. A new AMI in the parameter is a new launch template version.
data "aws_ssm_parameter" "ecs_ami" {
  name = coalesce(var.ami_parameter_name, {
    x86_64 = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    arm64  = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
  }[var.architecture])
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  name                 = "${var.name}-ecs-instance"
  assume_role_policy   = data.aws_iam_policy_document.ec2_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "instance" {
  for_each = toset([
    "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
  ])
  role       = aws_iam_role.instance.name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name}-ecs-instance"
  role = aws_iam_role.instance.name
  tags = var.tags
}

resource "aws_security_group" "instances" {
  name        = "${var.name}-ecs-instances"
  description = "ECS container instances: outbound HTTPS only (agent, SSM, image pulls)"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "instances_https" {
  security_group_id = aws_security_group.instances.id
  description       = "HTTPS to AWS APIs (VPC endpoints, NAT)"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-ecs-"
  image_id               = data.aws_ssm_parameter.ecs_ami.value
  instance_type          = var.instance_type
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.instances.id]
  tags                   = var.tags

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 40
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  user_data = base64encode(<<-EOT
    #!/bin/bash
    cat >>/etc/ecs/ecs.config <<'CFG'
    ECS_CLUSTER=${var.name}
    ECS_AWSVPC_BLOCK_IMDS=true
    ECS_ENABLE_TASK_IAM_ROLE=true
    ECS_DISABLE_PRIVILEGED=true
    ECS_ENABLE_CONTAINER_METADATA=true
    CFG
  EOT
  )

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-ecs" })
  }

  lifecycle {
    precondition {
      # Graviton (arm64) families have a "g" right after the generation digit (m7g, c6gn,
      # r7gd, t4g, x2gd, im4gn, is4gen, hpc7g); a1 is the first Graviton.
      condition     = can(regex("^([a-z]+[0-9]+g[a-z0-9-]*|a1)\\.", var.instance_type)) == (var.architecture == "arm64")
      error_message = "instance_type ${var.instance_type} is ${can(regex("^([a-z]+[0-9]+g[a-z0-9-]*|a1)\\.", var.instance_type)) ? "arm64 (Graviton)" : "x86_64"} but architecture is ${var.architecture}: the AMI and the image would not run on it."
    }
  }
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-ecs-"
  vpc_zone_identifier = var.private_subnet_ids
  min_size            = local.standing_by ? 0 : var.asg_min_size # standing by: hosts only for placed tasks
  max_size            = var.asg_max_size
  health_check_type   = "EC2"
  # Instances running tasks are protected from scale-in (the capacity provider's managed
  # termination protection unprotects idle ones). force_delete (demo environments): destroy
  # terminates the instances instead of waiting for protected ones that never go.
  protect_from_scale_in = !var.force_delete
  force_delete          = var.force_delete

  # A version number, not "$Latest": a new launch template version (AMI, instance type, user
  # data) changes the group's launch_template and so starts the instance refresh below.
  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 90
    }
  }

  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }

  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "this" {
  name = "${var.name}-ec2"
  tags = var.tags
  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.this.arn
    managed_termination_protection = var.force_delete ? "DISABLED" : "ENABLED" # ENABLED needs protect_from_scale_in
    managed_draining               = "ENABLED"
    managed_scaling {
      status          = "ENABLED"
      target_capacity = 90
    }
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = [aws_ecs_capacity_provider.this.name, "FARGATE"]
  default_capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.this.name
    weight            = 1
  }
}

# --- Load balancer --------------------------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "HTTPS from the internet to the load balancer"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  #checkov:skip=CKV_AWS_260:Not port 80: this is the public HTTPS listener (443) behind WAF; there is no HTTP listener.
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from anywhere (WAF filters)"
  cidr_ipv4         = var.ingress_cidr
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the MHP tasks"
  referenced_security_group_id = aws_security_group.app.id
  from_port                    = local.port
  to_port                      = local.port
  ip_protocol                  = "tcp"
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:The web ACL is associated in modules/waf (aws_wafv2_web_acl_association), which the platform module always instantiates.
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60
  tags                       = var.tags

  access_logs {
    bucket  = var.access_log_bucket
    prefix  = "alb"
    enabled = true
  }
}

resource "aws_lb_target_group" "app" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the task stays inside private subnets and MHP serves plain HTTP on 8080.
  name                 = var.name
  port                 = local.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  tags                 = var.tags

  health_check {
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
  certificate_arn   = var.certificate_arn
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

# /metrics is for the collector sidecar on the task's loopback (and Prometheus inside the VPC),
# never for the internet: the public listener answers it 404 before it reaches a task.
resource "aws_lb_listener_rule" "metrics_stay_inside" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 1
  tags         = var.tags

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}

# --- Roles -------------------------------------------------------------------------------------

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
  name                 = "${var.name}-app-execution"
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
    sid       = "ReadAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = values(var.secret_env)
  }
  statement {
    sid       = "DecryptAppSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-app-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

resource "aws_iam_role" "app" {
  name                 = "${var.name}-app"
  assume_role_policy   = data.aws_iam_policy_document.tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "DataBucketObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.data_bucket_arn}/*"]
  }
  statement {
    sid       = "DataBucketList"
    actions   = ["s3:ListBucket"]
    resources = [var.data_bucket_arn]
  }
  statement {
    sid       = "BackupObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [for b in var.backup_bucket_arns : "${b}/*"]
  }
  statement {
    sid       = "BackupList"
    actions   = ["s3:ListBucket"]
    resources = var.backup_bucket_arns
  }
  statement {
    sid       = "AuditExportsWriteOnly"
    actions   = ["s3:PutObject"]
    resources = ["${var.audit_exports_bucket_arn}/*"]
  }
  statement {
    # The app key (and the earlier ones that still unwrap until `mhp keys rewrap` has moved
    # everything off them), and the data key.
    sid       = "EnvelopeKeys"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = concat([var.app_kms_key_arn, var.kms_key_arn], values(var.app_kms_previous_key_arns))
  }
  statement {
    sid       = "OpenSearch"
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
    resources = [for d in var.opensearch_domain_arns : "${d}/*"]
  }
  statement {
    sid       = "MetricsSidecar"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${var.collector_log_group_arn}:*"]
  }
  dynamic "statement" {
    for_each = var.security_log_group_arn == null ? [] : [1]
    content {
      sid       = "SecurityEvents"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${var.security_log_group_arn}:*"]
    }
  }
  statement {
    # X-Ray's write actions take no resource ARN.
    sid       = "TracesSidecar"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
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
  dynamic "statement" {
    for_each = length(var.pipeline_task_definition_arns) > 0 ? [1] : []
    content {
      sid       = "OnDemandPipelines"
      actions   = ["ecs:RunTask"]
      resources = var.pipeline_task_definition_arns
      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [aws_ecs_cluster.this.arn]
      }
    }
  }
  dynamic "statement" {
    for_each = length(var.pipeline_pass_role_arns) > 0 ? [1] : []
    content {
      sid       = "PassPipelineRoles"
      actions   = ["iam:PassRole"]
      resources = var.pipeline_pass_role_arns
    }
  }
}

resource "aws_iam_role_policy" "app" {
  name   = "mhp-app"
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.app.json
}

# --- Task definition and service -------------------------------------------------------------

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "MHP app tasks: 8080 from the load balancer only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  description                  = "HTTP from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  from_port                    = local.port
  to_port                      = local.port
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS to AWS APIs and OpenSearch"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "app_postgres" {
  security_group_id = aws_security_group.app.id
  description       = "PostgreSQL inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  from_port         = 5432
  to_port           = 5432
  ip_protocol       = "tcp"
}

resource "aws_ecs_task_definition" "app" {
  family                   = "${var.name}-app"
  network_mode             = "awsvpc"
  requires_compatibilities = ["EC2"]
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.app.arn
  tags                     = var.tags

  volume {
    name = "data"
  }

  container_definitions = jsonencode([
    merge(local.mhp_container, {
      name         = "mhp"
      essential    = true
      command      = ["serve"]
      dependsOn    = [{ containerName = "migrate", condition = "SUCCESS" }]
      stopTimeout  = 30
      portMappings = [{ containerPort = local.port, protocol = "tcp" }]
      healthCheck = {
        command     = ["CMD", "/usr/local/bin/mhp", "healthcheck"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 30
      }
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "mhp" }) }
    }),
    # Migrations before the new code takes traffic: every new task runs `mhp migrate` to the end
    # (PostgreSQL's advisory lock makes concurrent runs take turns) and `mhp serve` starts only
    # when it succeeded. Migrations are additive (docs/design/storage.md), so the tasks of the
    # previous release keep serving on the newer schema while the rollout proceeds.
    merge(local.mhp_container, {
      name             = "migrate"
      essential        = false
      command          = ["migrate"]
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "migrate" }) }
    }),
    {
      name                   = "metrics"
      image                  = var.collector_image
      essential              = false
      readonlyRootFilesystem = true
      user                   = "10001:10001"
      environment            = [{ name = "AOT_CONFIG_CONTENT", value = var.collector_config }]
      linuxParameters        = { capabilities = { drop = ["ALL"] } }
      logConfiguration       = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "metrics" }) }
    },
  ])
}

resource "aws_ecs_service" "app" {
  name                               = "mhp-app"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.app.arn
  desired_count                      = local.app_min_count
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  tags                               = var.tags

  capacity_provider_strategy {
    capacity_provider = aws_ecs_capacity_provider.this.name
    weight            = 1
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  deployment_controller {
    type = "ECS"
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.app.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "mhp"
    container_port   = local.port
  }

  ordered_placement_strategy {
    type  = "spread"
    field = "attribute:ecs.availability-zone"
  }

  lifecycle {
    ignore_changes = [desired_count] # owned by application auto scaling
  }

  depends_on = [aws_lb_listener.https, aws_ecs_cluster_capacity_providers.this]
}

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = local.app_min_count # standing by: raising it to desired_count scales the service up
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-app-cpu"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension
  policy_type        = "TargetTrackingScaling"
  target_tracking_scaling_policy_configuration {
    target_value = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
