# A Wazuh manager in the platform's VPC that receives MHP's security events by syslog over TLS
# (security.syslog_address) and runs MHP's decoder and rules (deploy/wazuh/) on them
# (deploy/README.md, "Wazuh manager").
#
#   MHP tasks --TLS 6514--> internal network load balancer (TLS ends here, ACM certificate of
#   host_name) --TCP 5140--> relay (rsyslog: RFC 5425 octet-counted frames -> one OCSF event a
#   line, a file per day) --file--> manager (logcollector, mhp-ocsf decoder, rules 100800-100823)
#   --alerts.json--> relay --stdout--> alerts log group (subscribed to the SIEM by the platform)
#
# One Fargate task in private subnets: an init container copies the manager's configuration and
# MHP's decoder and rules (uploaded from deploy/wazuh/ to this module's bucket) into the task, the
# manager's image copies them over /var/ossec/etc at start; its state lives on EFS, encrypted with
# the platform's data key. One task at a time (two managers must not share the state): a
# deployment stops the old task before it starts the new one.
# Security groups: syslog only from the client tasks' groups, through the load balancer; the
# manager's API (55000) only from inside the VPC; NFS only from the manager.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account     = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.name
  syslog_port = 6514 # RFC 5425, what MHP connects to
  relay_port  = 5140 # plain TCP inside the VPC, behind the load balancer
  api_port    = 55000

  # What the module delivers to the task, from deploy/wazuh/ (key in the bucket => file).
  wazuh_dir = "${path.module}/../../../wazuh"
  config_files = {
    "manager/etc/ossec.conf"                = "${local.wazuh_dir}/manager/ossec.conf"
    "manager/etc/decoders/mhp_decoders.xml" = "${local.wazuh_dir}/decoders/mhp_decoders.xml"
    "manager/etc/rules/mhp_rules.xml"       = "${local.wazuh_dir}/rules/mhp_rules.xml"
    "relay/rsyslog.conf"                    = "${local.wazuh_dir}/relay/rsyslog.conf"
  }
  # A change of any of them is a new task definition, so an apply rolls the manager onto it.
  config_version = sha256(join("\n", [for k in sort(keys(local.config_files)) : "${k}=${filesha256(local.config_files[k])}"]))

  # The manager image's permanent data (its /permanent_data.env), each on its own EFS access
  # point; "events" holds the relay's daily files of MHP's events until the manager has read them.
  state_dirs = {
    api-configuration = "/var/ossec/api/configuration"
    etc               = "/var/ossec/etc"
    logs              = "/var/ossec/logs"
    queue             = "/var/ossec/queue"
    agentless         = "/var/ossec/agentless"
    multigroups       = "/var/ossec/var/multigroups"
    integrations      = "/var/ossec/integrations"
    active-response   = "/var/ossec/active-response/bin"
    wodles            = "/var/ossec/wodles"
    filebeat          = "/etc/filebeat"
  }
  access_points = merge(local.state_dirs, { events = "/var/log/mhp" })
  wazuh_gid     = 999 # the wazuh group of the manager image

  log_options = {
    awslogs-group  = aws_cloudwatch_log_group.manager.name
    awslogs-region = local.region
  }
}

# --- Configuration: deploy/wazuh/ in a bucket of its own -------------------------------------------

module "config_bucket" {
  source = "../s3-bucket"

  name              = "${var.name}-${local.account}-config"
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = var.access_log_bucket
  force_destroy     = var.force_destroy
  tags              = var.tags
}

resource "aws_s3_object" "config" {
  for_each = local.config_files

  bucket       = module.config_bucket.id
  key          = each.key
  source       = each.value
  source_hash  = filemd5(each.value) # etag is not the content's MD5 under SSE-KMS
  content_type = endswith(each.key, ".xml") ? "application/xml" : "text/plain"
  kms_key_id   = var.kms_key_arn
  tags         = var.tags
}

# --- State: EFS, encrypted with the data key, reachable only from the manager over TLS ---------------

resource "aws_efs_file_system" "state" {
  #checkov:skip=CKV2_AWS_18:The AWS Backup selection lives in modules/backup, which modules/platform gives module.wazuh's file_system_arn (asserted by the platform's tests/wazuh.tftest.hcl); checkov does not follow the ARN across modules.
  creation_token   = var.name
  encrypted        = true
  kms_key_id       = var.kms_key_arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"
  tags             = merge(var.tags, { Name = var.name, "mhp:data-class" = "security-events" })
}

resource "aws_efs_mount_target" "state" {
  count = length(var.private_subnet_ids) # the subnets' ids are known only at apply

  file_system_id  = aws_efs_file_system.state.id
  subnet_id       = var.private_subnet_ids[count.index]
  security_groups = [aws_security_group.efs.id]
}

resource "aws_efs_access_point" "state" {
  #checkov:skip=CKV_AWS_330:No POSIX user is imposed: the manager's processes run as root and as wazuh (uid 999) on the same directories; the file system policy admits only this task's role, over TLS, through a mount target.
  for_each = local.access_points

  file_system_id = aws_efs_file_system.state.id
  tags           = merge(var.tags, { Name = "${var.name}-${each.key}" })

  root_directory {
    path = "/${each.key}"
    creation_info {
      owner_uid   = 0
      owner_gid   = local.wazuh_gid
      permissions = "0770"
    }
  }
}

data "aws_iam_policy_document" "efs" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["*"]
    resources = [aws_efs_file_system.state.arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
  statement {
    sid       = "TheManagerOnly"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]
    resources = [aws_efs_file_system.state.arn]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.task.arn]
    }
    condition {
      test     = "Bool"
      variable = "elasticfilesystem:AccessedViaMountTarget"
      values   = ["true"]
    }
  }
}

resource "aws_efs_file_system_policy" "state" {
  file_system_id = aws_efs_file_system.state.id
  policy         = data.aws_iam_policy_document.efs.json
}

# --- Security groups ---------------------------------------------------------------------------------

resource "aws_security_group" "lb" {
  name        = "${var.name}-lb"
  description = "Wazuh syslog over TLS (6514) from MHP's tasks only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "lb_syslog" {
  for_each = var.client_security_group_ids

  security_group_id            = aws_security_group.lb.id
  description                  = "Syslog over TLS from the ${each.key} tasks"
  referenced_security_group_id = each.value
  from_port                    = local.syslog_port
  to_port                      = local.syslog_port
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "lb_to_relay" {
  security_group_id            = aws_security_group.lb.id
  description                  = "To the relay of the manager's task"
  referenced_security_group_id = aws_security_group.manager.id
  from_port                    = local.relay_port
  to_port                      = local.relay_port
  ip_protocol                  = "tcp"
}

# The clients' side: their tasks may open syslog connections to the load balancer.
resource "aws_vpc_security_group_egress_rule" "client_syslog" {
  for_each = var.client_security_group_ids

  security_group_id            = each.value
  description                  = "Syslog over TLS to the Wazuh manager's load balancer"
  referenced_security_group_id = aws_security_group.lb.id
  from_port                    = local.syslog_port
  to_port                      = local.syslog_port
  ip_protocol                  = "tcp"
}

resource "aws_security_group" "manager" {
  name        = "${var.name}-manager"
  description = "Wazuh manager task: relay from its load balancer, API inside the VPC"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "manager_relay" {
  security_group_id            = aws_security_group.manager.id
  description                  = "Syslog stream (TLS ended) from the load balancer"
  referenced_security_group_id = aws_security_group.lb.id
  from_port                    = local.relay_port
  to_port                      = local.relay_port
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_ingress_rule" "manager_api" {
  security_group_id = aws_security_group.manager.id
  description       = "Wazuh API (HTTPS) from inside the VPC"
  cidr_ipv4         = var.vpc_cidr
  from_port         = local.api_port
  to_port           = local.api_port
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "manager_https" {
  security_group_id = aws_security_group.manager.id
  description       = "HTTPS to AWS APIs (S3, logs, secrets) and the image registry"
  cidr_ipv4         = "0.0.0.0/0"
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "manager_nfs" {
  security_group_id            = aws_security_group.manager.id
  description                  = "NFS to the state file system"
  referenced_security_group_id = aws_security_group.efs.id
  from_port                    = 2049
  to_port                      = 2049
  ip_protocol                  = "tcp"
}

resource "aws_security_group" "efs" {
  name        = "${var.name}-efs"
  description = "Wazuh manager state: NFS from the manager task only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "efs_from_manager" {
  security_group_id            = aws_security_group.efs.id
  description                  = "NFS from the manager task"
  referenced_security_group_id = aws_security_group.manager.id
  from_port                    = 2049
  to_port                      = 2049
  ip_protocol                  = "tcp"
}

# --- Internal load balancer: TLS ends here ------------------------------------------------------------

resource "aws_lb" "this" {
  name                             = var.name
  load_balancer_type               = "network"
  internal                         = true
  subnets                          = var.private_subnet_ids
  security_groups                  = [aws_security_group.lb.id]
  enable_deletion_protection       = var.deletion_protection
  enable_cross_zone_load_balancing = true
  tags                             = var.tags

  access_logs {
    bucket  = var.access_log_bucket
    prefix  = "nlb"
    enabled = true
  }
}

resource "aws_lb_target_group" "relay" {
  name                 = var.name
  port                 = local.relay_port
  protocol             = "TCP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30
  preserve_client_ip   = false
  tags                 = var.tags

  health_check {
    protocol            = "TCP"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "syslog_tls" {
  load_balancer_arn = aws_lb.this.arn
  port              = local.syslog_port
  protocol          = "TLS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
  certificate_arn   = var.certificate_arn
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.relay.arn
  }
}

# host_name inside the VPC: a private zone of that one name, pointing at the load balancer.
resource "aws_route53_zone" "private" {
  name          = var.host_name
  comment       = "Wazuh manager's syslog endpoint inside ${var.vpc_id}"
  force_destroy = true
  tags          = var.tags

  vpc {
    vpc_id = var.vpc_id
  }
}

resource "aws_route53_record" "syslog" {
  zone_id = aws_route53_zone.private.zone_id
  name    = var.host_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}

# --- Roles ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  assume_role_policy   = data.aws_iam_policy_document.tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "ReadTheApiPassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.api.arn]
  }
  statement {
    sid       = "DecryptTheApiPassword"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "read-wazuh-secret"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  assume_role_policy   = data.aws_iam_policy_document.tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ReadTheConfiguration"
    actions   = ["s3:GetObject"]
    resources = ["${module.config_bucket.arn}/*"]
  }
  statement {
    sid       = "ListTheConfiguration"
    actions   = ["s3:ListBucket"]
    resources = [module.config_bucket.arn]
  }
  statement {
    sid       = "DecryptTheConfiguration"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com"]
    }
  }
  statement {
    sid       = "MountTheState"
    actions   = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"]
    resources = [aws_efs_file_system.state.arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "wazuh-manager"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- The API's password: made here, kept in Secrets Manager, set by the image at each start -------------

data "aws_secretsmanager_random_password" "api" {
  password_length            = 32
  require_each_included_type = true
  # The Wazuh API wants a lower, an upper, a digit and a symbol; the image writes the password into
  # a JSON file, so no quote or backslash.
  exclude_characters = "\"'\\`#()+,./:;<=>[]^{|}~"
}

resource "aws_secretsmanager_secret" "api" {
  #checkov:skip=CKV2_AWS_57:No rotation Lambda (the platform has none): putting a new value and forcing a new deployment of the manager rotates it, as the image sets the password from the secret at each start.
  name                    = var.api_secret_name
  description             = "Password of the Wazuh manager API's wazuh user (modules/wazuh)"
  kms_key_id              = var.secrets_kms_key_arn
  recovery_window_in_days = var.force_destroy ? 0 : 30
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "api" {
  secret_id     = aws_secretsmanager_secret.api.id
  secret_string = data.aws_secretsmanager_random_password.api.random_password

  lifecycle {
    ignore_changes = [secret_string] # made once; a new random value at every plan is not a change
  }
}

# --- Logs ----------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "manager" {
  name              = "/mhp/${var.name}/manager"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

# The manager's alerts (alerts.json, one JSON object per line), copied by the relay.
resource "aws_cloudwatch_log_group" "alerts" {
  name              = "/mhp/${var.name}/alerts"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

# --- Task and service ----------------------------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  dynamic "volume" {
    for_each = local.access_points
    content {
      name = "state-${volume.key}"
      efs_volume_configuration {
        file_system_id     = aws_efs_file_system.state.id
        transit_encryption = "ENABLED"
        authorization_config {
          access_point_id = aws_efs_access_point.state[volume.key].id
          iam             = "ENABLED"
        }
      }
    }
  }

  # Task-local: the configuration as copied by the init container, and scratch space.
  dynamic "volume" {
    for_each = toset(["manager-config", "relay-config", "config-tmp", "relay-tmp"])
    content {
      name = volume.value
    }
  }

  container_definitions = jsonencode([
    {
      name                   = "config"
      image                  = var.config_image
      essential              = false
      readonlyRootFilesystem = true
      entryPoint             = ["/bin/sh", "-c"]
      command = [join(" && ", [
        "aws s3 cp --recursive --only-show-errors s3://${module.config_bucket.id}/manager/ /wazuh-config-mount/",
        "aws s3 cp --recursive --only-show-errors s3://${module.config_bucket.id}/relay/ /relay-config/",
      ])]
      environment = [
        { name = "AWS_DEFAULT_REGION", value = local.region },
        { name = "HOME", value = "/tmp" },
        { name = "WAZUH_CONFIG_VERSION", value = local.config_version },
      ]
      mountPoints = [
        { sourceVolume = "manager-config", containerPath = "/wazuh-config-mount", readOnly = false },
        { sourceVolume = "relay-config", containerPath = "/relay-config", readOnly = false },
        { sourceVolume = "config-tmp", containerPath = "/tmp", readOnly = false },
      ]
      linuxParameters  = { capabilities = { drop = ["ALL"] } }
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "config" }) }
    },
    {
      name                   = "relay"
      image                  = var.relay_image
      essential              = true
      readonlyRootFilesystem = true
      entryPoint             = ["rsyslogd"]
      command                = ["-n", "-f", "/etc/mhp-relay/rsyslog.conf", "-i", "/tmp/rsyslogd.pid"]
      dependsOn              = [{ containerName = "config", condition = "SUCCESS" }]
      portMappings           = [{ containerPort = local.relay_port, protocol = "tcp" }]
      mountPoints = [
        { sourceVolume = "relay-config", containerPath = "/etc/mhp-relay", readOnly = true },
        { sourceVolume = "relay-tmp", containerPath = "/tmp", readOnly = false },
        { sourceVolume = "state-events", containerPath = "/var/log/mhp", readOnly = false },
        { sourceVolume = "state-logs", containerPath = "/var/ossec/logs", readOnly = true },
      ]
      logConfiguration = { logDriver = "awslogs", options = { awslogs-group = aws_cloudwatch_log_group.alerts.name, awslogs-region = local.region, awslogs-stream-prefix = "relay" } }
    },
    {
      name         = "manager"
      image        = var.image
      essential    = true
      dependsOn    = [{ containerName = "config", condition = "SUCCESS" }]
      portMappings = [{ containerPort = local.api_port, protocol = "tcp" }]
      environment  = [{ name = "API_USERNAME", value = "wazuh" }]
      secrets      = [{ name = "API_PASSWORD", valueFrom = aws_secretsmanager_secret.api.arn }]
      ulimits      = [{ name = "nofile", softLimit = 655360, hardLimit = 655360 }]
      mountPoints = concat(
        [for k, path in local.state_dirs : { sourceVolume = "state-${k}", containerPath = path, readOnly = false }],
        [
          { sourceVolume = "state-events", containerPath = "/var/log/mhp", readOnly = true },
          { sourceVolume = "manager-config", containerPath = "/wazuh-config-mount", readOnly = true },
        ],
      )
      healthCheck = {
        command     = ["CMD-SHELL", "/var/ossec/bin/wazuh-control status | grep -q 'wazuh-analysisd is running' && /var/ossec/bin/wazuh-control status | grep -q 'wazuh-logcollector is running'"]
        interval    = 30
        timeout     = 10
        retries     = 3
        startPeriod = 180
      }
      stopTimeout      = 60
      logConfiguration = { logDriver = "awslogs", options = merge(local.log_options, { awslogs-stream-prefix = "manager" }) }
    },
  ])

  depends_on = [aws_s3_object.config, aws_secretsmanager_secret_version.api]
}

resource "aws_ecs_service" "this" {
  name                               = "wazuh-manager"
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 0 # never two managers on one state
  deployment_maximum_percent         = 100
  health_check_grace_period_seconds  = 300
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  tags                               = var.tags

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.manager.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.relay.arn
    container_name   = "relay"
    container_port   = local.relay_port
  }

  depends_on = [aws_lb_listener.syslog_tls, aws_efs_mount_target.state, aws_efs_file_system_policy.state, aws_iam_role_policy.task]
}
