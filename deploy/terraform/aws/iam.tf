# IAM for Small Fry on EKS. ONE SOURCE FOR EACH POLICY: the documents are the JSON files the
# README shows (server-ext/jupyterlab_smallfry/hub/examples/iam/) and, for what only this
# deployment needs (the lake, IRSA trust), the files in policies/. Terraform reads them as
# they are and only swaps the examples' placeholders for this account's values (the
# `policies` local below: one placeholder per line). tests/test_deploy_terraform.py checks
# that every placeholder is swapped and evaluates the documents for the properties that
# matter (a user's role cannot read another user's home; only the Hub service writes jobs;
# workers assume only roles tagged for Small Fry).
#
# Roles (names fixed: the examples' trust policy names its principals by them):
# - notebook-<group>: users' notebook role and jobs' run-as role, one per IdP group; home
#   prefix by the session tag jupyterhub_user, the lake per group; trusted by the Hub service
#   (broker), the Airflow workers, and with web_identity by the IdP's id_tokens. Tagged
#   smallfry-notebook-role=true: the only roles the service and the workers may assume.
# - smallfry-service: the Small Fry Hub service (IRSA): writes specs, snapshots and queued
#   runs; assumes users' roles for their servers.
# - smallfry-airflow-worker: Airflow's task pods and DAG processor (IRSA): read specs and
#   snapshots, write run logs, assume the owner's run-as role for the notebook's kernel.

locals {
  account_id    = data.aws_caller_identity.current.account_id
  glue_database = replace("${var.name}_lake", "-", "_")
  examples      = "${path.module}/../../../server-ext/jupyterlab_smallfry/hub/examples/iam"
  idp_issuer    = trimprefix(trimsuffix(var.idp_issuer_url, "/"), "https://")
  eks_issuer    = trimprefix(var.eks_oidc_issuer_url, "https://")

  policy_files = {
    home               = "${local.examples}/permissions-home-prefix.json"
    service            = "${local.examples}/service-permissions.json"
    worker             = "${local.examples}/airflow-worker-permissions.json"
    trust_team         = "${local.examples}/trust-team.json"
    trust_web_identity = "${local.examples}/trust-web-identity.json"
    lake_read          = "${path.module}/policies/lake-read.json"
    lake_readwrite     = "${path.module}/policies/lake-readwrite.json"
  }

  # The placeholders of the example documents -> this deployment's values.
  policies = { for key, path in local.policy_files : key => jsonencode(jsondecode(
    replace(replace(replace(replace(replace(replace(replace(
      file(path),
      "arn:aws:iam::123456789012:", "arn:aws:iam::${local.account_id}:"),
      "arn:aws:glue:eu-west-1:123456789012:", "arn:aws:glue:${var.region}:${local.account_id}:"),
      "arn:aws:s3:::company-notebooks", "arn:aws:s3:::${local.buckets.notebooks}"),
      "arn:aws:s3:::company-lake", "arn:aws:s3:::${local.buckets.lake}"),
      "/company_lake", "/${local.glue_database}"),
      "login.example.com/realms/data", local.idp_issuer),
      "\"jupyterhub\"", jsonencode(var.idp_client_id))
  )) }
}

# --- The identity provider (web-identity mode only) ---------------------------------------

resource "aws_iam_openid_connect_provider" "idp" {
  count          = var.web_identity ? 1 : 0
  url            = "https://${local.idp_issuer}"
  client_id_list = [var.idp_client_id]
}

data "aws_iam_openid_connect_provider" "eks" {
  url = var.eks_oidc_issuer_url
}

# --- Notebook (run-as) roles, one per group -----------------------------------------------

data "aws_iam_policy_document" "notebook_trust" {
  source_policy_documents = concat(
    [local.policies.trust_team],
    var.web_identity ? [local.policies.trust_web_identity] : [],
  )
}

resource "aws_iam_role" "notebook" {
  for_each             = var.groups
  name                 = "notebook-${each.key}"
  description          = "Small Fry: notebooks and scheduled jobs of IdP group ${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.notebook_trust.json
  max_session_duration = 43200 # the runner asks up to 12 h for a long job (timeout + 15 min)
  tags = {
    "smallfry-notebook-role" = "true"
    "smallfry-group"         = each.key
  }
  depends_on = [aws_iam_openid_connect_provider.idp]
}

resource "aws_iam_role_policy" "notebook_home" {
  for_each = aws_iam_role.notebook
  name     = "home-prefix"
  role     = each.value.id
  policy   = local.policies.home
}

resource "aws_iam_role_policy" "notebook_lake" {
  for_each = aws_iam_role.notebook
  name     = "lake-${var.groups[each.key].lake_access}"
  role     = each.value.id
  policy   = var.groups[each.key].lake_access == "readwrite" ? local.policies.lake_readwrite : local.policies.lake_read
}

# --- The Small Fry Hub service (IRSA) -----------------------------------------------------

resource "aws_iam_role" "service" {
  name        = "smallfry-service"
  description = "Small Fry Hub service: writes job specs and snapshots, vends users' keys"
  assume_role_policy = templatefile("${path.module}/policies/trust-irsa.json.tftpl", {
    provider_arn = data.aws_iam_openid_connect_provider.eks.arn
    issuer       = local.eks_issuer
    subjects     = jsonencode(["system:serviceaccount:${var.hub_namespace}:${var.hub_service_account}"])
  })
}

resource "aws_iam_role_policy" "service" {
  name   = "smallfry-service"
  role   = aws_iam_role.service.id
  policy = local.policies.service
}

# --- Airflow's workers and DAG processor (IRSA) -------------------------------------------

resource "aws_iam_role" "worker" {
  name        = "smallfry-airflow-worker"
  description = "Airflow task pods and DAG processor: read specs and snapshots, write run logs"
  assume_role_policy = templatefile("${path.module}/policies/trust-irsa.json.tftpl", {
    provider_arn = data.aws_iam_openid_connect_provider.eks.arn
    issuer       = local.eks_issuer
    subjects     = jsonencode([for sa in var.airflow_service_accounts : "system:serviceaccount:${var.airflow_namespace}:${sa}"])
  })
}

resource "aws_iam_role_policy" "worker" {
  name   = "smallfry-airflow-worker"
  role   = aws_iam_role.worker.id
  policy = local.policies.worker
}
