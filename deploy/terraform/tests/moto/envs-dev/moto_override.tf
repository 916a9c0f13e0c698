# Check moto-apply (deploy/README.md "Applied against moto"): placed into a temporary copy of
# envs/dev, this override file sets both of the root's providers up for the moto server the check
# started (whose address every service's requests go to: AWS_ENDPOINT_URL, set by the check) and
# keeps the state under target/. Region, allowed_account_ids (moto's account,
# given in moto.auto.tfvars) and default tags stay as envs/dev writes them. Credentials are
# moto's fake ones, from the check's environment.

terraform {
  backend "local" {}
}

provider "aws" {
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 5 # only retryable errors are retried (a 4xx fails at once); moto's threaded server now and then closes a kept-alive connection under a request ("use of closed network connection")
}

provider "aws" {
  alias                       = "copy"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 5
}
