"""AWS for the team-platform tests: moto enforcing IAM, seeded the way the README's IAM
examples divide the rights.

- users' roles (``nb-<user>``): read and write their home prefix, read ``data/`` and their
  own runs (``smallfry/runs/<user>/``); no write anywhere under ``smallfry/``;
- the Hub service (IAM user ``smallfry-service``): writes snapshots and run manifests,
  assumes the users' roles for their servers;
- Airflow's workers (IAM user ``airflow-worker``): read snapshots, write runs, assume the
  users' roles for the notebooks they run.

moto ignores trust policies and does not expand ``${aws:PrincipalTag/...}``, so each user
gets a role with a literal prefix (the examples use one tag-based role for everyone).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

from .hub_aws import Aws
from .processes import moto_server

ACCOUNT = "123456789012"
BUCKET = "team-lake"
DEMO = Path(__file__).resolve().parents[1] / "embedded" / "demo"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions, resources) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


@dataclass
class TeamAws(Aws):
    """moto's URL and admin keys (``client`` as for the credential tests) plus the keys of
    the Hub service and of Airflow's workers."""

    service: dict  # the Hub service's keys
    worker: dict  # Airflow workers' keys

    @staticmethod
    def env(creds: dict) -> dict:
        return {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }


@contextlib.contextmanager
def team_aws(users: tuple[str, ...]):
    """moto on a free port, enforcing IAM after the first three (seeding) calls."""
    with moto_server(enforce_iam_after=3) as url:
        yield _seed(url, users)


def _seed(url: str, users: tuple[str, ...]) -> TeamAws:
    anyone = {"AccessKeyId": "AKIASETUPONLY0000000", "SecretAccessKey": "setup"}
    iam = TeamAws(url, anyone, anyone, anyone).client("iam")
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin", PolicyName="all", PolicyDocument=_policy(_allow("*", "*"))
    )
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    aws = TeamAws(url, admin, admin, admin)
    iam = aws.client("iam")
    lake = f"arn:aws:s3:::{BUCKET}"
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        }
    )
    for user in users:
        iam.create_role(RoleName=f"nb-{user}", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(
            RoleName=f"nb-{user}",
            PolicyName="home",
            PolicyDocument=_policy(
                _allow(
                    ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], f"{lake}/home/{user}/*"
                ),
                _allow("s3:GetObject", [f"{lake}/data/*", f"{lake}/smallfry/runs/{user}/*"]),
                _allow("s3:ListBucket", lake),
                _allow("sts:GetCallerIdentity", "*"),
            ),
        )
    assume = _allow(
        ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        [role_arn(f"nb-{u}") for u in users],
    )
    keys = {}
    for name, statements in {
        "smallfry-service": [
            _allow(["s3:GetObject", "s3:PutObject"], f"{lake}/smallfry/*"),
            _allow("s3:ListBucket", lake),
            assume,
        ],
        "airflow-worker": [
            _allow("s3:GetObject", f"{lake}/smallfry/snapshots/*"),
            _allow(["s3:GetObject", "s3:PutObject"], f"{lake}/smallfry/runs/*"),
            _allow("s3:ListBucket", lake),
            assume,
        ],
    }.items():
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="role", PolicyDocument=_policy(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[name] = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    aws = TeamAws(url, admin, keys["smallfry-service"], keys["airflow-worker"])
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="data/sales.csv", Body=(DEMO / "data/sales.csv").read_bytes())
    report = (DEMO / "notebooks/sales-report.ipynb").read_bytes()
    for user in users:
        s3.put_object(Bucket=BUCKET, Key=f"home/{user}/sales-report.ipynb", Body=report)
    return aws
