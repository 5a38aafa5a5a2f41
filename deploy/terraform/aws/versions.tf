# Small Fry on AWS: the buckets, the catalog and the IAM that the Helm values in deploy/helm/
# expect. Checked here with python-hcl2 (it parses) and checkov (it scans); `terraform plan`
# against your account is the real check (see variables.tf for what to fill in).
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ "smallfry-deployment" = var.name }, var.tags)
  }
}

data "aws_caller_identity" "current" {}
