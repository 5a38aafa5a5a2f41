"""``import smallfry as sf`` in real kernels reads with the user's own keys, as boto3 there does.

Processes: moto enforcing IAM (S3, STS, Glue, Secrets Manager); a stand-in broker that
assumes the role ``nb-alice`` in moto for each request, as the Hub's broker does; a broker-mode
Small Fry server, whose kernels get the managed profile. The role may read and write
``lake-alice`` and read the catalog, not ``lake-payroll`` nor any secret: what ``sf`` can do
in the kernel is exactly what that role allows, and each refusal names the role's session
and the action. The server learns the S3 endpoint from ``c.SmallFry.endpoint_url`` (kernels
find it in the managed profile); Glue's, STS's and Secrets Manager's come from botocore's
``AWS_ENDPOINT_URL_<SERVICE>`` variables in the server's environment.

A scheduled run is papermill with the same profile and ``$SMALLFRY_PARAMETERS`` (what the
job runner gives its kernels).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import nbformat
import pytest
import requests

from .broker_stand_in import broker_answering
from .hub_kernel import run_in_kernel, server_info_path
from .lake_support import PARQUET_TABLE, glue_partition, glue_table, put_sales
from .processes import jupyter_server, moto_server

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/nb-alice"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/nb-alice/alice"
SECRET_NAME = "warehouse-password"
NO_KEYS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}


def _client(url: str, service: str, keys: dict):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
    )


def _seed(url: str) -> dict:
    """Admin (the first three calls, before moto enforces IAM), role, data, catalog, secret."""
    anyone = {"AccessKeyId": "AKIASETUPONLY0000000", "SecretAccessKey": "setup"}
    iam = _client(url, "iam", anyone)
    iam.create_user(UserName="admin")
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(everything))
    admin = iam.create_access_key(UserName="admin")["AccessKey"]
    iam = _client(url, "iam", admin)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="nb-alice", AssumeRolePolicyDocument=json.dumps(trust))
    allowed = [
        (["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::lake-alice/*"),
        (["s3:ListBucket"], "arn:aws:s3:::lake-alice"),
        (["glue:GetTable", "glue:GetPartitions", "glue:GetDatabase"], "*"),
        # AWS answers GetCallerIdentity to anyone; moto wants it allowed.
        (["sts:GetCallerIdentity"], "*"),
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": a, "Resource": r} for a, r in allowed],
    }
    iam.put_role_policy(RoleName="nb-alice", PolicyName="lake", PolicyDocument=json.dumps(policy))
    s3 = _client(url, "s3", admin)
    for bucket in ("lake-alice", "lake-payroll"):
        s3.create_bucket(Bucket=bucket)
    folders = put_sales(s3, "lake-alice", "sales/")
    s3.put_object(Bucket="lake-payroll", Key="salaries.csv", Body=b"name,salary\nada,1\n")
    glue = _client(url, "glue", admin)
    descriptor = glue_table(
        glue,
        "shop",
        "orders",
        "s3://lake-alice/sales/",
        PARQUET_TABLE,
        [("order_id", "bigint"), ("amount", "double"), ("region", "string")],
        keys=[("year", "int"), ("month", "int")],
    )
    for folder in folders:
        year, month = (int(p.split("=")[1]) for p in folder.strip("/").split("/")[-2:])
        glue_partition(
            glue, "shop", "orders", descriptor, [year, month], f"s3://lake-alice/{folder}"
        )
    secret = _client(url, "secretsmanager", admin).create_secret(
        Name=SECRET_NAME, SecretString="not-for-alice"
    )
    return {"admin": admin, "secret_arn": secret["ARN"]}


@contextlib.contextmanager
def assuming_broker(url: str, admin: dict):
    """The broker's ``POST /credentials``: assume nb-alice in moto, hand back the session."""

    def answer() -> dict:
        creds = _client(url, "sts", admin).assume_role(RoleArn=ROLE, RoleSessionName="alice")
        keys = creds["Credentials"]
        return {
            "AccessKeyId": keys["AccessKeyId"],
            "SecretAccessKey": keys["SecretAccessKey"],
            "SessionToken": keys["SessionToken"],
            "Expiration": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "arn": creds["AssumedRoleUser"]["Arn"],
            "source_identity": "alice",
            "roles": [ROLE],
            "role": ROLE,
        }

    with broker_answering(answer) as base:
        yield base + "/services/smallfry-broker/"


@pytest.fixture(scope="module")
def lake():
    with moto_server(enforce_iam_after=3) as url:
        seeded = _seed(url)
        # botocore names the variables after the service id ("Secrets Manager").
        services = {f"AWS_ENDPOINT_URL_{s}": url for s in ("GLUE", "STS", "SECRETS_MANAGER")}
        connections = {
            "warehouse": {
                "url": "postgresql+psycopg://analyst@127.0.0.1:5432/sales",
                "password_secret": seeded["secret_arn"],
            }
        }
        with (
            assuming_broker(url, seeded["admin"]) as broker_url,
            jupyter_server(
                "--SmallFry.credentials_mode=broker",
                f"--SmallFry.broker_url={broker_url}",
                f"--SmallFry.endpoint_url={url}",
                f"--SmallFry.sts_endpoint_url={url}",
                "--SmallFry.roots=lake-alice",
                env={
                    **NO_KEYS,
                    **services,
                    "AWS_ENDPOINT_URL": "",
                    "JUPYTERHUB_API_TOKEN": "hub-token-for-the-broker",
                    "SMALLFRY_CONNECTIONS": json.dumps(connections),
                },
            ) as server,
        ):
            yield {"url": url, "server": server, "services": services, **seeded}


KERNEL_CODE = """
import json, boto3, smallfry as sf
out = {"boto3": boto3.client("sts").get_caller_identity()["Arn"], "here": sf.here()}
df = sf.read("s3://lake-alice/sales/")
out["rows"] = len(df)
sf.write(df[df.year == 2025], sf.here() + "sales-2025.parquet")
out["table"] = len(sf.table("shop.orders", where={"year": 2024}))
out["sql_rows"] = int(sf.sql("SELECT count(*) AS n FROM shop.orders WHERE month = 1")["n"][0])
out["glob"] = int(sf.sql("SELECT count(*) AS n FROM 's3://lake-alice/sales/*/*/*.parquet'")["n"][0])
out["params"] = sf.params
for name, attempt in [
    ("s3", lambda: sf.read("s3://lake-payroll/salaries.csv")),
    ("sql", lambda: sf.sql("SELECT * FROM 's3://lake-payroll/salaries.csv'")),
    ("write", lambda: sf.write(df, "s3://lake-payroll/stolen.parquet")),
    ("secret", lambda: sf.connect("warehouse")),
]:
    try:
        attempt()
        out[name] = "allowed"
    except PermissionError as err:
        out[name] = [type(err).__name__, err.principal, err.action, err.resource, str(err)]
print(json.dumps(out))
"""


async def test_sf_in_a_kernel_uses_the_users_keys_and_names_refusals(lake):
    server = lake["server"]
    result = await run_in_kernel(
        server.url, server.token, KERNEL_CODE, notebook="S3:lake-alice/reports/q1.ipynb"
    )
    assert result["error"] is None, result
    out = json.loads(result["stdout"].strip().splitlines()[-1])

    assert out["boto3"] == SESSION_ARN  # the kernel's boto3 and sf are the same user
    assert out["here"] == "s3://lake-alice/reports/"
    assert (out["rows"], out["table"], out["glob"]) == (200, 100, 200)
    assert out["params"] == {}  # interactive

    admin_s3 = _client(lake["url"], "s3", lake["admin"])
    written = admin_s3.get_object(Bucket="lake-alice", Key="reports/sales-2025.parquet")
    assert written["Body"].read()[:4] == b"PAR1"

    salaries = "arn:aws:s3:::lake-payroll/salaries.csv"
    assert out["s3"][:4] == ["AccessDenied", SESSION_ARN, "s3:GetObject", salaries]
    assert out["s3"][4].startswith(
        f"Access denied: {SESSION_ARN} may not s3:GetObject on {salaries}"
    )
    assert out["write"][:4] == [
        "AccessDenied",
        SESSION_ARN,
        "s3:PutObject",
        "arn:aws:s3:::lake-payroll/stolen.parquet",
    ]
    assert out["secret"][:4] == [
        "AccessDenied",
        SESSION_ARN,
        "secretsmanager:GetSecretValue",
        lake["secret_arn"],
    ]
    # DuckDB reaches S3 through the same filesystem, so its refusal is the same.
    assert out["sql_rows"] == 100
    assert out["sql"][:4] == out["s3"][:4]


def test_a_scheduled_run_gets_its_parameters_and_the_owners_keys(lake, tmp_path):
    """papermill, as the job runner runs it, with the managed profile of the user's server."""
    server = lake["server"]
    status = requests.get(
        f"{server.url}smallfry/credentials",
        headers={"Authorization": f"token {server.token}"},
        timeout=60,
    ).json()
    config_file = server_info_path(status["profile"]).parent / "aws-config"
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('region = "south"', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(
                "import smallfry as sf\n"
                "assert sf.params == {'region': region}, (sf.params, region)\n"
                'n = sf.sql(f"SELECT count(*) AS n FROM shop.orders WHERE year = 2025 '
                "AND region = '{sf.params['region']}'\")['n'][0]\n"
                "print('ROWS', n)"
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    source, output = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(notebook, source)
    parameters = {"region": "north"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        lake["services"],
        AWS_CONFIG_FILE=str(config_file),
        AWS_PROFILE="smallfry",
        SMALLFRY_PARAMETERS=json.dumps(parameters),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    run = subprocess.run(
        [sys.executable, "-m", "papermill", str(source), str(output), "-y", json.dumps(parameters)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    printed = "".join(
        o.get("text", "")
        for c in nbformat.read(output, as_version=4).cells
        for o in c.get("outputs", [])
    )
    assert "ROWS 50" in printed, printed
