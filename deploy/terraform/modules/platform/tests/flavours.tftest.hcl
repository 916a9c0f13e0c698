# The whole environment planned against a mock AWS: production keeps its data (deletion
# protection, long retention, locked vaults, COMPLIANCE-mode audit exports); the demo flavour
# can be torn down.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks"
}

mock_provider "aws" {
  alias           = "copy"
  override_during = plan
  source          = "./tests/mocks-copy"
}

run "production_keeps_its_data" {
  command = plan
  variables {
    environment = "prod-use1"
    flavour     = "production"
  }

  assert {
    condition     = output.controls.aurora_deletion_protection && output.controls.lb_deletion_protection
    error_message = "production has deletion protection"
  }
  assert {
    condition     = output.controls.aurora_backup_days == 35 && output.controls.backup_monthly_days >= 2190
    error_message = "production keeps 35 days of point-in-time recovery and six years of monthly backups"
  }
  assert {
    condition     = output.controls.backup_vault_locked
    error_message = "production backup vaults are locked"
  }
  assert {
    condition     = output.controls.audit_exports_lock.mode == "COMPLIANCE"
    error_message = "production audit exports are locked in COMPLIANCE mode"
  }
  assert {
    condition     = output.controls.zones == 3 && output.controls.security_baseline
    error_message = "three zones and the security baseline"
  }
}

run "demo_can_be_torn_down" {
  command = plan
  variables {
    environment = "demo-acme"
    flavour     = "demo"
  }

  assert {
    condition     = !output.controls.aurora_deletion_protection && !output.controls.lb_deletion_protection
    error_message = "demo environments have no deletion protection"
  }
  assert {
    condition     = !output.controls.backup_vault_locked && output.controls.audit_exports_lock.mode == "GOVERNANCE"
    error_message = "nothing in a demo environment is locked beyond teardown"
  }
  assert {
    condition     = output.controls.zones == 2
    error_message = "demo environments are smaller but still multi-AZ"
  }
}

run "flavour_is_validated" {
  command = plan
  variables {
    environment = "x-test"
    flavour     = "bigger"
  }
  expect_failures = [var.flavour]
}

# Apply-time (deploy/README.md, "Apply-time checks"): in every flavour the ECS hosts are of the
# image's architecture (x86_64: scripts/build-image.sh builds linux/amd64), the OpenSearch data
# nodes divide over the domain's zones, and only demo hosts are force-deleted on teardown.
# Graviton (arm64) families have a "g" right after the generation digit (m7g, r7gd, t4g).

run "production_hosts_and_domains_plan_as_aws_runs_them" {
  command = plan
  variables {
    environment = "prod-use1"
    flavour     = "production"
  }

  assert {
    condition     = module.app.hosts.architecture == "x86_64" && !can(regex("^([a-z]+[0-9]+g[a-z0-9-]*|a1)\\.", module.app.hosts.instance_type))
    error_message = "production hosts are x86_64 (the image's architecture), of an x86_64 instance type"
  }
  assert {
    condition     = module.app.hosts.ami_parameter == "/mhp/prod-use1/ecs-host-ami" && module.host_image.ami_parameter_name == "/mhp/prod-use1/ecs-host-ami"
    error_message = "production hosts boot the hardened x86_64 AMI of the environment's Image Builder pipeline (modules/host-image, built on the ECS-optimized AMI)"
  }
  assert {
    condition = alltrue([for n in [module.documents.nodes, module.siem.nodes] :
    contains([2, 3], n.zones) && n.data_nodes % n.zones == 0 && n.zones == n.subnets && n.masters == 3])
    error_message = "production domains: data nodes divide over two or three zones, three dedicated masters"
  }
  assert {
    condition     = module.documents.nodes.data_nodes == 3 && module.documents.nodes.zones == 3
    error_message = "production domains: one data node in each of three zones"
  }
  assert {
    condition     = !module.app.hosts.force_delete && module.app.hosts.protect_from_scale_in
    error_message = "production hosts running tasks stay protected; teardown is not forced"
  }
  assert {
    condition     = toset(keys(module.siem.subscribed_log_groups)) == toset(["events/app", "events/worker", "events/security", "events/cloudtrail", "flows/vpc"])
    error_message = "the app, worker, security (MHP's OCSF events), CloudTrail and VPC flow logs feed the SIEM (deploy/README.md, \"Detection that receives data\")"
  }
}

run "production_in_a_two_zone_region" {
  command = plan
  variables {
    environment = "prod-usw1"
    flavour     = "production"
  }
  override_data {
    target = module.network[0].data.aws_availability_zones.available
    values = { names = ["us-west-1a", "us-west-1c"] }
  }

  assert {
    condition = alltrue([for n in [module.documents.nodes, module.siem.nodes] :
    n.zones == 2 && n.data_nodes % n.zones == 0 && n.masters == 3])
    error_message = "in us-west-1 (two zones) the data nodes divide over the two zones"
  }
}

run "non_production_hosts_and_domains_plan_as_aws_runs_them" {
  command = plan
  variables {
    environment = "staging"
    flavour     = "non-production"
  }

  assert {
    condition     = module.app.hosts.architecture == "x86_64" && !can(regex("^([a-z]+[0-9]+g[a-z0-9-]*|a1)\\.", module.app.hosts.instance_type))
    error_message = "non-production hosts are x86_64, of an x86_64 instance type"
  }
  assert {
    condition = alltrue([for n in [module.documents.nodes, module.siem.nodes] :
    contains([2, 3], n.zones) && n.data_nodes % n.zones == 0 && n.zones == n.subnets])
    error_message = "non-production domains: data nodes divide over their zones (two data nodes in three zones would not)"
  }
  assert {
    condition     = !module.app.hosts.force_delete && module.app.hosts.protect_from_scale_in
    error_message = "non-production hosts running tasks stay protected; teardown is not forced"
  }
}

run "demo_hosts_and_domains_plan_as_aws_runs_them" {
  command = plan
  variables {
    environment = "demo-acme"
    flavour     = "demo"
  }

  assert {
    condition     = module.app.hosts.architecture == "x86_64" && !can(regex("^([a-z]+[0-9]+g[a-z0-9-]*|a1)\\.", module.app.hosts.instance_type))
    error_message = "demo hosts are x86_64, of an x86_64 instance type"
  }
  assert {
    condition = alltrue([for n in [module.documents.nodes, module.siem.nodes] :
    contains([2, 3], n.zones) && n.data_nodes % n.zones == 0 && n.zones == n.subnets])
    error_message = "demo domains: data nodes divide over their zones"
  }
  assert {
    condition     = module.app.hosts.force_delete
    error_message = "demo teardown force-deletes the hosts instead of waiting for scale-in-protected ones"
  }
}
