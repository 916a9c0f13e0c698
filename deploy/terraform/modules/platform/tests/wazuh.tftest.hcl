# Detection that receives data (deploy/README.md, "Wazuh manager"): with wazuh_enabled (the
# production roots), the environment runs a Wazuh manager in its VPC, every MHP task is told its
# syslog address, only the app's tasks may send to it, its alerts feed the SIEM and its state is
# backed up; without it, nothing of it is planned.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
  mock_resource "aws_efs_file_system" {
    defaults = { arn = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0" }
  }
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/mocks-copy"
}

run "production_sends_its_security_events_to_its_wazuh_manager" {
  command = plan
  variables {
    environment           = "prod-use1"
    flavour               = "production"
    wazuh_enabled         = true
    wazuh_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111"
  }
  override_resource {
    target          = module.app.aws_security_group.app
    override_during = plan
    values          = { id = "sg-app" }
  }
  override_resource {
    target          = module.aurora[0].aws_rds_cluster.this
    override_during = plan
    values          = { arn = "arn:aws:rds:us-east-1:123456789012:cluster:mhp-prod-use1" }
  }

  assert {
    condition     = output.controls.wazuh_manager && output.wazuh.syslog_address == "wazuh.mhp.example.org:6514"
    error_message = "production runs a Wazuh manager at wazuh.<public_host>:6514"
  }
  assert {
    condition     = lookup(output.shared_settings, "MHP_SECURITY_SYSLOG_ADDRESS", null) == output.wazuh.syslog_address
    error_message = "every MHP task is told the manager's syslog address (MHP_SECURITY_SYSLOG_ADDRESS)"
  }
  assert {
    condition     = length(module.wazuh[0].client_security_group_ids) == 1 && module.wazuh[0].client_security_group_ids["app"] == module.app.app_security_group_id && module.app.app_security_group_id == "sg-app"
    error_message = "only the app's tasks (which ship the events) may send syslog to the manager"
  }
  assert {
    condition     = module.siem.subscribed_log_groups["events/wazuh"] == module.wazuh[0].alerts_log_group_name
    error_message = "the manager's alerts feed the SIEM domain"
  }
  assert {
    condition     = contains(module.backup.resource_arns, module.wazuh[0].file_system_arn)
    error_message = "the manager's state (EFS) is in the daily backup plan"
  }
}

run "non_production_has_no_wazuh_manager_by_default" {
  command = plan
  variables {
    environment = "staging"
    flavour     = "non-production"
  }

  assert {
    condition     = !output.controls.wazuh_manager && output.wazuh == null && length(module.wazuh) == 0
    error_message = "no Wazuh manager unless the environment asks for one"
  }
  assert {
    condition     = !contains(keys(output.shared_settings), "MHP_SECURITY_SYSLOG_ADDRESS")
    error_message = "without a manager the tasks have no syslog sink"
  }
}

run "a_wazuh_manager_without_its_certificate_is_refused" {
  command = plan
  variables {
    environment   = "prod-use1"
    flavour       = "production"
    wazuh_enabled = true
  }
  expect_failures = [var.wazuh_certificate_arn]
}
