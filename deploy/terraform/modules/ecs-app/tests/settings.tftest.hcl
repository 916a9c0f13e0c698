# What the app's tasks are told agrees with what the application needs (the names themselves are
# checked against the binary by deploy/check_app_config.py in scripts/check-deploy.sh).
mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

variables {
  search_opensearch_url = "https://vpc-mhp-test-docs.us-east-1.es.amazonaws.com"
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

# Detection that receives data (deploy/README.md, "Wazuh manager"): given the manager's address,
# every task sends its security events there too (the workers share it through
# shared_environment); without it, no syslog sink.

run "security_events_reach_the_wazuh_manager_by_syslog" {
  command = plan
  variables {
    syslog_address = "wazuh.mhp.example.org:6514"
  }

  assert {
    condition     = contains(jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment, { name = "MHP_SECURITY_SYSLOG_ADDRESS", value = "wazuh.mhp.example.org:6514" })
    error_message = "the app sends its security events to the Wazuh manager's syslog over TLS"
  }
  assert {
    condition     = output.shared_environment["MHP_SECURITY_SYSLOG_ADDRESS"] == "wazuh.mhp.example.org:6514"
    error_message = "the setting is shared with every MHP task of the installation"
  }
  assert {
    condition     = !contains([for e in jsondecode(aws_ecs_task_definition.app.container_definitions)[0].environment : e.name], "MHP_SECURITY_SYSLOG_CA_FILE")
    error_message = "no CA file: the load balancer's certificate is ACM's, under roots MHP already trusts"
  }
}

run "no_syslog_sink_without_a_manager" {
  command = plan

  assert {
    condition     = !contains(keys(output.shared_environment), "MHP_SECURITY_SYSLOG_ADDRESS")
    error_message = "without a Wazuh manager the tasks have no syslog sink"
  }
}

run "a_syslog_address_without_a_port_is_refused" {
  command = plan
  variables {
    syslog_address = "wazuh.mhp.example.org"
  }
  expect_failures = [var.syslog_address]
}
