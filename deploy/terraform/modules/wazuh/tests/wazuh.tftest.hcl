# The Wazuh manager in the platform's VPC (deploy/README.md, "Wazuh manager"): who may reach it,
# where its state lives, which image runs, and that MHP's decoder and rules reach it.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

# Known ids of the module's security groups, so that the rules can be compared with them.
override_resource {
  target          = aws_security_group.lb
  override_during = plan
  values          = { id = "sg-wazuh-lb" }
}
override_resource {
  target          = aws_security_group.manager
  override_during = plan
  values          = { id = "sg-wazuh-manager" }
}
override_resource {
  target          = aws_security_group.efs
  override_during = plan
  values          = { id = "sg-wazuh-efs" }
}

run "syslog_only_from_the_app_tasks" {
  command = plan

  assert {
    condition = alltrue([for r in aws_vpc_security_group_ingress_rule.lb_syslog :
      r.security_group_id == "sg-wazuh-lb" && r.referenced_security_group_id == "sg-app" && r.cidr_ipv4 == null && r.cidr_ipv6 == null
      && r.from_port == 6514 && r.to_port == 6514 && r.ip_protocol == "tcp"
    ]) && length(aws_vpc_security_group_ingress_rule.lb_syslog) == 1
    error_message = "the load balancer takes syslog over TLS (6514) from the app tasks' security group only"
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.manager_relay.referenced_security_group_id == "sg-wazuh-lb"
      && aws_vpc_security_group_ingress_rule.manager_relay.cidr_ipv4 == null
      && aws_vpc_security_group_ingress_rule.manager_relay.from_port == 5140
    )
    error_message = "the relay takes the stream from the load balancer only"
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.manager_api.cidr_ipv4 == var.vpc_cidr
      && aws_vpc_security_group_ingress_rule.manager_api.from_port == 55000 && aws_vpc_security_group_ingress_rule.manager_api.to_port == 55000
    )
    error_message = "the manager's API (55000) answers inside the VPC only"
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.efs_from_manager.referenced_security_group_id == "sg-wazuh-manager"
      && aws_vpc_security_group_ingress_rule.efs_from_manager.cidr_ipv4 == null
    )
    error_message = "NFS reaches the state from the manager's task only"
  }
  assert {
    condition = alltrue([for r in concat(
      values(aws_vpc_security_group_ingress_rule.lb_syslog),
      [aws_vpc_security_group_ingress_rule.manager_relay, aws_vpc_security_group_ingress_rule.manager_api, aws_vpc_security_group_ingress_rule.efs_from_manager],
      ) : r.cidr_ipv4 != "0.0.0.0/0" && r.cidr_ipv6 != "::/0"
    ])
    error_message = "nothing reaches the manager, its load balancer or its state from 0.0.0.0/0"
  }
  assert {
    condition = alltrue([for r in aws_vpc_security_group_egress_rule.client_syslog :
    r.security_group_id == "sg-app" && r.referenced_security_group_id == "sg-wazuh-lb" && r.from_port == 6514])
    error_message = "the app tasks may open syslog connections to the load balancer, and to nothing else through this module"
  }
  assert {
    condition     = aws_lb.this.internal && aws_lb.this.load_balancer_type == "network" && toset(aws_lb.this.security_groups) == toset(["sg-wazuh-lb"])
    error_message = "the load balancer is internal, with its own security group"
  }
  assert {
    condition     = toset(aws_lb.this.subnets) == toset(var.private_subnet_ids) && !aws_ecs_service.this.network_configuration[0].assign_public_ip && aws_ecs_service.this.network_configuration[0].subnets == toset(var.private_subnet_ids)
    error_message = "the load balancer and the task are in the private subnets, without a public address"
  }
}

run "tls_ends_at_the_load_balancer_with_the_certificate_of_the_host" {
  command = plan

  assert {
    condition = (
      aws_lb_listener.syslog_tls.port == 6514 && aws_lb_listener.syslog_tls.protocol == "TLS"
      && aws_lb_listener.syslog_tls.certificate_arn == var.certificate_arn
      && startswith(aws_lb_listener.syslog_tls.ssl_policy, "ELBSecurityPolicy-TLS13")
    )
    error_message = "port 6514 is TLS 1.2+ with the ACM certificate of host_name"
  }
  assert {
    condition     = aws_lb_target_group.relay.protocol == "TCP" && aws_lb_target_group.relay.port == 5140 && [for l in aws_ecs_service.this.load_balancer : l.container_name] == ["relay"]
    error_message = "the load balancer forwards the stream to the relay"
  }
  assert {
    condition     = aws_route53_zone.private.name == var.host_name && [for v in aws_route53_zone.private.vpc : v.vpc_id] == [var.vpc_id] && aws_route53_record.syslog.name == var.host_name
    error_message = "host_name resolves, inside the VPC only, to the load balancer"
  }
  assert {
    condition     = output.syslog_address == "wazuh.mhp.example.org:6514"
    error_message = "MHP is told host_name:6514"
  }
}

run "state_is_encrypted_with_the_platform_key" {
  command = plan

  assert {
    condition     = aws_efs_file_system.state.encrypted && aws_efs_file_system.state.kms_key_id == var.kms_key_arn
    error_message = "the manager's state is on EFS encrypted with the platform's data key"
  }
  assert {
    condition     = alltrue([for v in aws_ecs_task_definition.this.volume : v.efs_volume_configuration[0].transit_encryption == "ENABLED" && v.efs_volume_configuration[0].authorization_config[0].iam == "ENABLED" if startswith(v.name, "state-")])
    error_message = "every EFS volume is mounted over TLS with the task role's IAM authorization"
  }
  assert {
    condition = toset([for m in jsondecode(aws_ecs_task_definition.this.container_definitions)[2].mountPoints : m.containerPath if startswith(m.sourceVolume, "state-") && !m.readOnly]) == toset([
      "/var/ossec/api/configuration", "/var/ossec/etc", "/var/ossec/logs", "/var/ossec/queue", "/var/ossec/agentless",
      "/var/ossec/var/multigroups", "/var/ossec/integrations", "/var/ossec/active-response/bin", "/var/ossec/wodles", "/etc/filebeat",
    ])
    error_message = "every directory the manager image keeps as permanent data is on EFS"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.efs.statement :
      s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && contains(c.values, "false")])
    ])
    error_message = "the file system refuses clients without TLS"
  }
  assert {
    condition     = length(aws_efs_mount_target.state) == length(var.private_subnet_ids) && alltrue([for m in aws_efs_mount_target.state : m.security_groups == toset(["sg-wazuh-efs"])])
    error_message = "one mount target per private subnet, behind the EFS security group"
  }
  assert {
    condition     = aws_ecs_service.this.desired_count == 1 && aws_ecs_service.this.deployment_minimum_healthy_percent == 0 && aws_ecs_service.this.deployment_maximum_percent == 100
    error_message = "one manager at a time on its state: a deployment stops the old task before it starts the new one"
  }
}

run "images_are_pinned" {
  command = plan

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[2].name == "manager" && jsondecode(aws_ecs_task_definition.this.container_definitions)[2].image == "wazuh/wazuh-manager:4.12.0"
    error_message = "the manager runs wazuh/wazuh-manager pinned to a 4.x version"
  }
  assert {
    condition = alltrue([for c in jsondecode(aws_ecs_task_definition.this.container_definitions) :
    !endswith(c.image, ":latest") && (strcontains(replace(c.image, "/^[^/]*\\.[^/]*//", ""), ":") || strcontains(c.image, "@sha256:"))])
    error_message = "every container's image is pinned (no latest, no bare repository)"
  }
}

run "a_floating_manager_tag_is_refused" {
  command = plan
  variables {
    image = "wazuh/wazuh-manager:latest"
  }
  expect_failures = [var.image]
}

run "a_wazuh_5_manager_is_refused" {
  command = plan
  variables {
    image = "wazuh/wazuh-manager:5.0.0" # other paths (/var/wazuh-manager), other configuration
  }
  expect_failures = [var.image]
}

run "an_unpinned_relay_is_refused" {
  command = plan
  variables {
    relay_image = "rsyslog/rsyslog-minimal"
  }
  expect_failures = [var.relay_image]
}

run "decoders_and_rules_are_delivered_from_deploy_wazuh" {
  command = plan

  assert {
    condition = toset(keys(aws_s3_object.config)) == toset([
      "manager/etc/ossec.conf", "manager/etc/decoders/mhp_decoders.xml", "manager/etc/rules/mhp_rules.xml", "relay/rsyslog.conf",
    ])
    error_message = "the manager's configuration, MHP's decoder and rules, and the relay's configuration are uploaded"
  }
  assert {
    condition = (
      aws_s3_object.config["manager/etc/decoders/mhp_decoders.xml"].source_hash == filemd5("${path.module}/../../../wazuh/decoders/mhp_decoders.xml")
      && aws_s3_object.config["manager/etc/rules/mhp_rules.xml"].source_hash == filemd5("${path.module}/../../../wazuh/rules/mhp_rules.xml")
    )
    error_message = "the uploaded decoder and rules are deploy/wazuh/'s files"
  }
  assert {
    condition     = alltrue([for o in aws_s3_object.config : o.kms_key_id == var.kms_key_arn && o.bucket == output.config_bucket])
    error_message = "the configuration objects are in the module's bucket, encrypted with the data key"
  }
  assert {
    condition = alltrue([
      jsondecode(aws_ecs_task_definition.this.container_definitions)[0].name == "config",
      !jsondecode(aws_ecs_task_definition.this.container_definitions)[0].essential,
      strcontains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command[0], "s3://${output.config_bucket}/manager/ /wazuh-config-mount/"),
      strcontains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].command[0], "s3://${output.config_bucket}/relay/ /relay-config/"),
      contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment, { name = "WAZUH_CONFIG_VERSION", value = output.config_version }),
    ])
    error_message = "the init container copies the configuration from the bucket, and a new configuration is a new task definition"
  }
  assert {
    condition = alltrue([for i in [1, 2] :
      jsondecode(aws_ecs_task_definition.this.container_definitions)[i].dependsOn == [{ containerName = "config", condition = "SUCCESS" }]
    ])
    error_message = "the relay and the manager start once the configuration is copied"
  }
  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.this.container_definitions)[2].mountPoints, { sourceVolume = "manager-config", containerPath = "/wazuh-config-mount", readOnly = true })
    error_message = "the manager's image copies /wazuh-config-mount over /var/ossec at start"
  }
}

run "roles_are_bounded_and_scoped" {
  command = plan

  override_resource {
    target          = aws_iam_role.task
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/mhp-test-wazuh-task" }
  }

  assert {
    condition     = aws_iam_role.task.permissions_boundary == var.permissions_boundary_arn && aws_iam_role.execution.permissions_boundary == var.permissions_boundary_arn
    error_message = "the task and execution roles carry the permissions boundary"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.efs.statement :
      s.effect != "Deny" && contains(s.actions, "elasticfilesystem:ClientWrite") && anytrue([for p in s.principals : contains(p.identifiers, "arn:aws:iam::123456789012:role/mhp-test-wazuh-task")])
    ])
    error_message = "the file system admits the manager's task role"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.task.statement :
      alltrue([for r in s.resources : r != "*"])
    ])
    error_message = "the task role names every resource it reaches"
  }
}
