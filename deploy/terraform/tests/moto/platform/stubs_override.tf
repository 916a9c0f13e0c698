# Check moto-apply (deploy/README.md "Applied against moto"): placed into a temporary copy of
# modules/platform, this override file changes only the source of the module calls whose
# services moto does not emulate, to stand-ins under tests/moto/stubs/<module>. Every argument
# modules/platform gives them stays as written and is checked against the real module's
# variables (the check copies its variables.tf and versions.tf into the stand-in); everything
# else in modules/platform, and the root envs/dev, is applied as it is.

module "app" {
  source = "../../tests/moto/stubs/ecs-app"
}

module "host_image" {
  source = "../../tests/moto/stubs/host-image"
}

module "pipelines" {
  source = "../../tests/moto/stubs/ecs-pipelines"
}

module "aurora" {
  source = "../../tests/moto/stubs/aurora"
}

module "documents" {
  source = "../../tests/moto/stubs/opensearch"
}

module "siem" {
  source = "../../tests/moto/stubs/siem"
}

module "identity" {
  source = "../../tests/moto/stubs/identity"
}

module "waf" {
  source = "../../tests/moto/stubs/waf"
}

module "backup" {
  source = "../../tests/moto/stubs/backup"
}

module "security_baseline" {
  source = "../../tests/moto/stubs/security-baseline"
}
