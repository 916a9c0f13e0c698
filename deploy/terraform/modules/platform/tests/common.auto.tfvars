# The variables every test file here starts from (terraform test loads *.auto.tfvars of the
# tests directory); a run block overrides what it needs.
image             = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mhp@sha256:0000000000000000000000000000000000000000000000000000000000000000"
public_host       = "mhp.example.org"
certificate_arn   = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
vpc_cidr          = "10.40.0.0/16"
recovery_vpc_cidr = "10.140.0.0/16"
