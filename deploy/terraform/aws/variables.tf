variable "region" {
  description = "AWS region of the buckets, the Glue database and the EKS cluster, e.g. eu-west-1."
  type        = string
}

variable "name" {
  description = "Prefix of the bucket names (globally unique), e.g. acme-smallfry: buckets acme-smallfry-notebooks, -lake, -access-logs."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$", var.name))
    error_message = "name: lower-case letters, digits and hyphens, 3-42 characters (it prefixes bucket names)."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "groups" {
  description = <<-EOT
    Identity-provider groups -> their notebook (run-as) role notebook-<group>. lake_access:
    "read" (curated/ and the catalog) or "readwrite" (raw/ and curated/, and tables).
    Map the same groups to these roles in the Hub service's role_map (outputs.role_map).
  EOT
  type = map(object({
    lake_access = string
  }))
  validation {
    condition     = alltrue([for g in values(var.groups) : contains(["read", "readwrite"], g.lake_access)])
    error_message = "groups: lake_access is \"read\" or \"readwrite\"."
  }
  validation {
    condition     = alltrue([for name in keys(var.groups) : can(regex("^[A-Za-z0-9+=,.@_-]{1,55}$", name))])
    error_message = "groups: a group name must be usable in a role name (letters, digits, +=,.@_-; at most 55)."
  }
}

variable "eks_oidc_issuer_url" {
  description = "The EKS cluster's OIDC issuer (aws eks describe-cluster --query cluster.identity.oidc.issuer), whose IAM OIDC provider already exists (eksctl utils associate-iam-oidc-provider, or your cluster module)."
  type        = string
  validation {
    condition     = startswith(var.eks_oidc_issuer_url, "https://")
    error_message = "eks_oidc_issuer_url starts with https://."
  }
}

variable "hub_namespace" {
  description = "Kubernetes namespace of the JupyterHub release (and of the Small Fry Hub service)."
  type        = string
  default     = "jupyterhub"
}

variable "hub_service_account" {
  description = "ServiceAccount of the Small Fry Hub service Deployment (deploy/helm/jupyterhub/smallfry-service.yaml)."
  type        = string
  default     = "smallfry-service"
}

variable "airflow_namespace" {
  description = "Kubernetes namespace of the Airflow release."
  type        = string
  default     = "airflow"
}

variable "airflow_service_accounts" {
  description = "ServiceAccounts that get the workers' role: the task pods' and the DAG processor's (which syncs the specs). The chart names them <release>-worker and <release>-dag-processor."
  type        = list(string)
  default     = ["airflow-worker", "airflow-dag-processor"]
}

variable "web_identity" {
  description = "Also let users assume their notebook role with their IdP id_token (credentials_mode web-identity): creates the IAM OIDC provider for the IdP. Not needed in broker mode (the default of the Helm values)."
  type        = bool
  default     = false
}

variable "idp_issuer_url" {
  description = "The identity provider's issuer, exactly the id_token's iss, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0 (Entra ID). Used when web_identity is true."
  type        = string
  default     = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
}

variable "idp_client_id" {
  description = "The OIDC client ID of JupyterHub, the id_token's aud. Used when web_identity is true."
  type        = string
  default     = "00000000-0000-0000-0000-000000000000"
}

variable "run_log_days" {
  description = "Days run logs (smallfry/runs/) are kept; older ones expire. Specs and snapshots are kept."
  type        = number
  default     = 180
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted object version stays recoverable."
  type        = number
  default     = 30
}
