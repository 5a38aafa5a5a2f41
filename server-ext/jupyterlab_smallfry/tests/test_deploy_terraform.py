"""The Terraform for AWS in deploy/terraform/aws/, checked without an AWS account.

``terraform plan`` against your account is the real check; here: the HCL parses
(python-hcl2), checkov passes with every skip justified, the policies are the README's JSON
files (one source) with only their placeholders swapped, and the rendered policies, evaluated
by a small IAM evaluator (deploy_support), have the properties that matter: a user's role
cannot read another user's home, only the Hub service writes jobs and snapshots, workers
assume only roles tagged for Small Fry, and the IRSA roles only for their service accounts.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess

import hcl2
import pytest

from ..safe_names import USER_TAG_KEY
from .deploy_support import (
    ROOT,
    TERRAFORM,
    Request,
    Unsupported,
    allowed,
    checkov_venv,
    decide,
    hcl,
    hcl_locals,
    placeholder_swaps,
    policy_files,
    render_template,
    rendered_policies,
    resources,
    unquote,
)

EXAMPLES = ROOT / "server-ext" / "jupyterlab_smallfry" / "hub" / "examples" / "iam"

# A deployment unlike the examples' placeholders, so a placeholder left unswapped shows.
ACCOUNT = "210987654321"
REGION = "eu-central-1"
NAME = "acme-smallfry"
EKS_ISSUER = "oidc.eks.eu-central-1.amazonaws.com/id/ABCDEF0123456789"
VALUES = {
    "local.account_id": ACCOUNT,
    "var.region": REGION,
    "local.buckets.notebooks": f"{NAME}-notebooks",
    "local.buckets.lake": f"{NAME}-lake",
    "local.glue_database": "acme_smallfry_lake",
    "local.idp_issuer": "login.microsoftonline.com/tenant-guid/v2.0",
    "var.idp_client_id": "jupyterhub-client-guid",
}
NOTEBOOKS = f"arn:aws:s3:::{NAME}-notebooks"
LAKE = f"arn:aws:s3:::{NAME}-lake"
SERVICE = f"arn:aws:iam::{ACCOUNT}:role/smallfry-service"
WORKER = f"arn:aws:iam::{ACCOUNT}:role/smallfry-airflow-worker"
TAGGED = {"smallfry-notebook-role": "true"}


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


@pytest.fixture(scope="module")
def policies() -> dict[str, dict]:
    return rendered_policies(VALUES)


def as_user(user: str | None, action: str, resource: str, **context) -> Request:
    tags = {} if user is None else {"aws:PrincipalTag/jupyterhub_user": user}
    return Request(action, resource, context={**tags, **context})


def notebook_role(policies, lake_access="readwrite") -> list[dict]:
    """A group's notebook role as the Terraform builds it: home prefix plus the lake."""
    return [policies["home"], policies[f"lake_{lake_access}"]]


# --- The HCL -------------------------------------------------------------------------------


def test_every_file_parses_and_declares_what_the_helm_values_need():
    for path in sorted(TERRAFORM.glob("*.tf")):
        with open(path) as handle:
            hcl2.load(handle)  # raises on a syntax error
    found = {}
    for path in TERRAFORM.glob("*.tf"):
        found.update(resources(path.name))
    for needed in [
        ("aws_s3_bucket", "data"),
        ("aws_s3_bucket", "logs"),
        ("aws_s3_bucket_versioning", "all"),
        ("aws_s3_bucket_server_side_encryption_configuration", "all"),
        ("aws_s3_bucket_public_access_block", "all"),
        ("aws_s3_bucket_lifecycle_configuration", "data"),
        ("aws_iam_openid_connect_provider", "idp"),
        ("aws_iam_role", "notebook"),
        ("aws_iam_role", "service"),
        ("aws_iam_role", "worker"),
        ("aws_glue_catalog_database", "lake"),
    ]:
        assert needed in found, needed
    buckets = hcl_locals("s3.tf")["buckets"]
    names = {unquote(k): unquote(v).replace("${var.name}", NAME) for k, v in buckets.items()}
    assert names == {
        "notebooks": VALUES["local.buckets.notebooks"],
        "lake": VALUES["local.buckets.lake"],
    }
    outputs = {unquote(k) for block in hcl("outputs.tf")["output"] for k in block}
    assert {"jobs_uri", "runs_uri", "service_role_arn", "worker_role_arn", "role_map"} <= outputs


def test_buckets_are_private_encrypted_versioned_and_run_logs_expire():
    found = resources("s3.tf")
    block = found[("aws_s3_bucket_public_access_block", "all")]
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[flag] is True, flag
    sse = found[("aws_s3_bucket_server_side_encryption_configuration", "all")]
    assert "AES256" in json.dumps(sse) or "aws:kms" in json.dumps(sse)
    versioning = found[("aws_s3_bucket_versioning", "all")]["versioning_configuration"][0]
    assert unquote(versioning["status"]) == "Enabled"
    lifecycle = json.dumps(found[("aws_s3_bucket_lifecycle_configuration", "data")])
    assert "smallfry/runs/" in lifecycle and "expiration" in lifecycle
    assert "noncurrent_version_expiration" in lifecycle


# --- One source for each policy --------------------------------------------------------------


def test_the_roles_get_the_readmes_json_files_as_they_are():
    files = policy_files()
    for name in ("home", "service", "worker", "trust_team", "trust_web_identity"):
        assert files[name].parent == EXAMPLES, name
        # ...and the examples' README lists each file it ships.
        assert f"`{files[name].name}`" in (EXAMPLES / "README.md").read_text(), name
    iam = resources("iam.tf")
    attached = {
        ("aws_iam_role_policy", "notebook_home"): "${local.policies.home}",
        ("aws_iam_role_policy", "service"): "${local.policies.service}",
        ("aws_iam_role_policy", "worker"): "${local.policies.worker}",
    }
    for key, expression in attached.items():
        assert iam[key]["policy"] == expression, key
    lake = iam[("aws_iam_role_policy", "notebook_lake")]["policy"]
    assert "local.policies.lake_readwrite" in lake and "local.policies.lake_read" in lake
    trust = iam[("data.aws_iam_policy_document", "notebook_trust")]["source_policy_documents"]
    assert "local.policies.trust_team" in trust and "local.policies.trust_web_identity" in trust
    # No policy document is written out in the HCL of the IAM file itself.
    assert "Statement" not in (TERRAFORM / "iam.tf").read_text()


def test_every_placeholder_is_swapped_and_nothing_else_changes(policies):
    swaps = placeholder_swaps()
    assert len(swaps) == 7
    texts = {name: path.read_text() for name, path in policy_files().items()}
    for placeholder, _ in swaps:
        assert any(placeholder in text for text in texts.values()), f"{placeholder} swaps nothing"
    rendered = json.dumps(policies)
    for leftover in (
        "123456789012",
        "company-notebooks",
        "company-lake",
        "company_lake",
        "login.example.com",
    ):
        assert leftover not in rendered, leftover
    # The IAM policy variables stay for IAM to fill in.
    assert "${aws:PrincipalTag/jupyterhub_user}" in json.dumps(policies["home"])
    # The same documents, statement for statement: only the swapped values differ.
    for name, path in policy_files().items():
        original = json.loads(path.read_text())
        assert [s.get("Sid") for s in original["Statement"]] == [
            s.get("Sid") for s in policies[name]["Statement"]
        ]


def test_an_unknown_placeholder_expression_fails_the_rendering():
    with pytest.raises(KeyError):
        rendered_policies({k: v for k, v in VALUES.items() if k != "local.glue_database"})


# --- What the policies allow ----------------------------------------------------------------


def test_a_users_role_cannot_read_another_users_home(policies):
    alice = notebook_role(policies)
    assert allowed(alice, as_user("alice", "s3:GetObject", f"{NOTEBOOKS}/home/alice/a.ipynb"))
    assert allowed(alice, as_user("alice", "s3:PutObject", f"{NOTEBOOKS}/home/alice/b.ipynb"))
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        for other in ("bob", "alice2", "ali"):
            request = as_user("alice", action, f"{NOTEBOOKS}/home/{other}/a.ipynb")
            assert not allowed(alice, request), (action, other)
    # Listing: her own home, not bob's; a session without the tag gets no home at all.
    listing = f"{NOTEBOOKS}"
    assert allowed(
        alice, as_user("alice", "s3:ListBucket", listing, **{"s3:prefix": "home/alice/"})
    )
    assert not allowed(
        alice, as_user("alice", "s3:ListBucket", listing, **{"s3:prefix": "home/bob/"})
    )
    assert not allowed(alice, as_user(None, "s3:GetObject", f"{NOTEBOOKS}/home/alice/a.ipynb"))
    # A name with a wildcard in it is a name, not a pattern.
    assert not allowed(alice, as_user("*", "s3:GetObject", f"{NOTEBOOKS}/home/bob/a.ipynb"))
    # Her own run logs, nobody else's.
    assert allowed(
        alice, as_user("alice", "s3:GetObject", f"{NOTEBOOKS}/smallfry/runs/alice/j/r/run.json")
    )
    assert not allowed(
        alice, as_user("alice", "s3:GetObject", f"{NOTEBOOKS}/smallfry/runs/bob/j/r/run.json")
    )


def test_the_lake_is_read_only_for_read_groups(policies):
    reader = notebook_role(policies, "read")
    writer = notebook_role(policies, "readwrite")
    assert allowed(reader, as_user("ann", "s3:GetObject", f"{LAKE}/curated/sales/part-0.parquet"))
    assert not allowed(reader, as_user("ann", "s3:GetObject", f"{LAKE}/raw/events.json"))
    assert not allowed(reader, as_user("ann", "s3:PutObject", f"{LAKE}/curated/sales/x.parquet"))
    assert allowed(writer, as_user("dan", "s3:PutObject", f"{LAKE}/raw/events.json"))
    table = f"arn:aws:glue:{REGION}:{ACCOUNT}:table/acme_smallfry_lake/sales"
    assert allowed(reader, as_user("ann", "glue:GetTable", table))
    assert not allowed(reader, as_user("ann", "glue:UpdateTable", table))
    assert allowed(writer, as_user("dan", "glue:UpdateTable", table))


def test_only_the_hub_service_writes_jobs_and_snapshots(policies):
    identities = {
        "notebook-readwrite": notebook_role(policies, "readwrite"),
        "notebook-read": notebook_role(policies, "read"),
        "worker": [policies["worker"]],
        "service": [policies["service"]],
    }
    for key in ("smallfry/jobs/alice/daily.json", "smallfry/snapshots/3f0a.ipynb"):
        for action in ("s3:PutObject", "s3:DeleteObject"):
            writers = [
                name
                for name, docs in identities.items()
                if allowed(docs, as_user("alice", action, f"{NOTEBOOKS}/{key}"))
            ]
            assert writers == ["service"], (key, action)
    # Workers read specs and snapshots and write run logs; users' roles write no run log.
    worker = identities["worker"]
    assert allowed(worker, Request("s3:GetObject", f"{NOTEBOOKS}/smallfry/jobs/alice/daily.json"))
    assert allowed(worker, Request("s3:GetObject", f"{NOTEBOOKS}/smallfry/snapshots/3f0a.ipynb"))
    assert allowed(
        worker, Request("s3:PutObject", f"{NOTEBOOKS}/smallfry/runs/alice/daily/r1/run.json")
    )
    assert allowed(
        worker, Request("s3:ListBucket", NOTEBOOKS, context={"s3:prefix": "smallfry/jobs/"})
    )
    assert not allowed(worker, Request("s3:GetObject", f"{NOTEBOOKS}/home/alice/a.ipynb"))
    run_log = f"{NOTEBOOKS}/smallfry/runs/alice/daily/r1/run.json"
    assert not allowed(identities["notebook-readwrite"], as_user("alice", "s3:PutObject", run_log))


def can_assume(
    caller: str, caller_policies, target: str, tags: dict, trust: dict, session_tags=None
):
    """Both sides of sts:AssumeRole (plus sts:TagSession when tags are passed): the caller's
    own policy for the target role (with its tags), and the target's trust policy."""
    role_context = {f"iam:ResourceTag/{k}": v for k, v in tags.items()}
    actions = ["sts:AssumeRole", "sts:SetSourceIdentity"]
    session = {}
    if session_tags:
        actions.append("sts:TagSession")
        session = {
            "aws:TagKeys": list(session_tags),
            **{f"aws:RequestTag/{k}": v for k, v in session_tags.items()},
        }
    for action in actions:
        if not allowed(
            caller_policies, Request(action, target, context={**role_context, **session})
        ):
            return False
        if not allowed(
            [trust], Request(action, target, principal={"AWS": caller}, context=session)
        ):
            return False
    return True


def runner_session_tag_keys() -> set[str]:
    """The session tags the runner really passes when it assumes a job's run_as role."""
    source = (ROOT / "server-ext" / "jupyterlab_smallfry" / "jobs" / "runner.py").read_text()
    return {USER_TAG_KEY, *re.findall(r'\{"Key": "([^"]+)"', source)}


def test_workers_assume_only_roles_tagged_for_them(policies):
    worker = [policies["worker"]]
    team = policies["trust_team"]
    tags = {
        "jupyterhub_user": "alice",
        "smallfry:owner": "alice",
        "smallfry:job": "daily",
        "smallfry:run": "r1",
    }
    assert set(tags) == runner_session_tag_keys()
    assert can_assume(WORKER, worker, role("notebook-data-eng"), TAGGED, team, tags)
    # The same role without the tag, a tagged role outside notebook-*, a tagged role whose
    # trust does not name the workers: refused.
    assert not can_assume(WORKER, worker, role("notebook-data-eng"), {}, team, tags)
    assert not can_assume(
        WORKER, worker, role("notebook-data-eng"), {"smallfry-notebook-role": "false"}, team, tags
    )
    assert not can_assume(WORKER, worker, role("admin"), TAGGED, team, tags)
    assert not can_assume(
        WORKER, worker, role("notebook-x"), TAGGED, policies["trust_web_identity"], tags
    )
    # Nor with a session tag the trust policy does not allow (e.g. posing as an admin).
    assert not can_assume(
        WORKER, worker, role("notebook-data-eng"), TAGGED, team, {**tags, "admin": "true"}
    )
    # The Hub service likewise, for users' servers, with the user tag only.
    service = [policies["service"]]
    assert can_assume(
        SERVICE, service, role("notebook-analysts"), TAGGED, team, {"jupyterhub_user": "bob"}
    )
    assert not can_assume(
        SERVICE, service, role("notebook-analysts"), {}, team, {"jupyterhub_user": "bob"}
    )
    assert not can_assume(SERVICE, service, role("notebook-analysts"), TAGGED, team, tags)
    # Users' roles assume nothing.
    assert not can_assume(
        role("notebook-data-eng"), notebook_role(policies), role("notebook-analysts"), TAGGED, team
    )


def test_the_irsa_roles_are_only_for_their_service_accounts():
    provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{EKS_ISSUER}"
    trust = render_template(
        TERRAFORM / "policies" / "trust-irsa.json.tftpl",
        {
            "provider_arn": provider,
            "issuer": EKS_ISSUER,
            "subjects": json.dumps(["system:serviceaccount:jupyterhub:smallfry-service"]),
        },
    )

    def token(sub, aud="sts.amazonaws.com", issuer=provider):
        context = {f"{EKS_ISSUER}:sub": sub, f"{EKS_ISSUER}:aud": aud}
        return Request(
            "sts:AssumeRoleWithWebIdentity",
            SERVICE,
            principal={"Federated": issuer},
            context=context,
        )

    assert allowed([trust], token("system:serviceaccount:jupyterhub:smallfry-service"))
    assert not allowed([trust], token("system:serviceaccount:jupyterhub:hub"))
    assert not allowed([trust], token("system:serviceaccount:other:smallfry-service"))
    assert not allowed([trust], token("system:serviceaccount:jupyterhub:smallfry-service", aud="x"))
    other = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/OTHER"
    assert not allowed(
        [trust], token("system:serviceaccount:jupyterhub:smallfry-service", issuer=other)
    )
    # The Terraform hands each role exactly its service accounts.
    iam = resources("iam.tf")
    service = iam[("aws_iam_role", "service")]["assume_role_policy"]
    assert "${var.hub_namespace}:${var.hub_service_account}" in service
    assert "var.airflow_service_accounts" in iam[("aws_iam_role", "worker")]["assume_role_policy"]


# --- The checks above can fail --------------------------------------------------------------


def test_the_evaluator_catches_broken_policies(policies):
    loose = copy.deepcopy(policies["home"])
    for statement in loose["Statement"]:
        if statement["Sid"] == "ReadWriteOwnHome":
            statement["Resource"] = f"{NOTEBOOKS}/home/*"
    assert allowed([loose], as_user("alice", "s3:GetObject", f"{NOTEBOOKS}/home/bob/a.ipynb"))
    untagged = copy.deepcopy(policies["worker"])
    for statement in untagged["Statement"]:
        statement.pop("Condition", None)
    assert can_assume(WORKER, [untagged], role("notebook-x"), {}, policies["trust_team"])
    denied = {
        **policies["service"],
        "Statement": [
            *policies["service"]["Statement"],
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ],
    }
    assert (
        decide([denied], Request("s3:PutObject", f"{NOTEBOOKS}/smallfry/jobs/a/b.json")) == "Deny"
    )


def test_the_evaluator_refuses_what_it_does_not_implement():
    for statement in (
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringEqualsIfExists": {"a": "b"}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        },
    ):
        with pytest.raises(Unsupported):
            decide(
                [{"Version": "2012-10-17", "Statement": [statement]}],
                Request("s3:GetObject", "arn:aws:s3:::b/k"),
            )


# --- checkov ---------------------------------------------------------------------------------


@pytest.mark.timeout(900)  # the first run builds checkov's venv (a few minutes, once)
def test_checkov_passes_and_every_skip_says_why():
    checkov = checkov_venv()
    proc = subprocess.run(
        [
            str(checkov),
            "-d",
            str(TERRAFORM),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(proc.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [] and proc.returncode == 0, (failed, proc.stderr[-2000:])
    assert summary["parsing_errors"] == 0 and summary["passed"] > 40
    for skipped in report["results"]["skipped_checks"]:
        reason = skipped["check_result"].get("suppress_comment") or ""
        assert len(reason.split()) >= 4, (
            f"{skipped['check_id']} on {skipped['resource']}: no reason"
        )
