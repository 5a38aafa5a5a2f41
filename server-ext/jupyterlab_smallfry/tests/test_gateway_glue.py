"""The gateway's Glue service: the Catalog panel reads and *Register as table* adds, but browser
JavaScript can neither change nor delete what the catalog holds.

A real Jupyter server forwards to moto's Glue; what reached Glue is checked with boto3 straight
to moto, so a refused call is proven not to have happened.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import pytest
import requests
from tornado.httputil import HTTPHeaders

from ..gateway.endpoints import ActionError, Endpoints, glue_action
from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY, gateway_client, jupyter_server

JSON = "application/x-amz-json-1.1"


@pytest.fixture(scope="module")
def glue_server(moto_url):
    with jupyter_server(
        f"--SmallFry.endpoint_url={moto_url}",
        f"--SmallFry.sts_endpoint_url={moto_url}",
        f"--SmallFry.glue_endpoint_url={moto_url}",
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def direct_glue(moto_url):
    """boto3 straight to moto: the independent check of what reached Glue."""
    return boto3.client(
        "glue",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )


@pytest.fixture(scope="module")
def kept_table(direct_glue):
    """A table that refused calls try to change or delete."""
    direct_glue.create_database(DatabaseInput={"Name": "gw_kept"})
    direct_glue.create_table(
        DatabaseName="gw_kept",
        TableInput={
            "Name": "orders",
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}],
                "Location": "s3://smallfry-test/orders/",
            },
        },
    )
    return "gw_kept", "orders"


def glue_post(server, target, body: dict | None = None, headers=None, path: str = ""):
    """A JSON-protocol call as @aws-sdk/client-glue sends it, through the gateway."""
    return requests.post(
        f"{server.url}smallfry/aws/glue/{path}",
        data=json.dumps(body or {}).encode(),
        headers={
            "Authorization": f"token {server.token}",
            "Content-Type": JSON,
            **({"X-Amz-Target": target} if target else {}),
            **(headers or {}),
        },
        timeout=60,
    )


def assert_refused(reply, action: str | None = None) -> None:
    assert reply.status_code == 403, (reply.status_code, reply.text[:300])
    assert reply.headers["X-Smallfry-Error"] == "ActionNotAllowed"
    message = reply.json()["message"]
    assert "c.SmallFry.glue_actions" in message
    if action:
        assert repr(action) in message


def assert_kept(direct_glue, kept_table) -> None:
    database, name = kept_table
    table = direct_glue.get_table(DatabaseName=database, Name=name)["Table"]
    assert table["StorageDescriptor"]["Columns"] == [{"Name": "id", "Type": "bigint"}]


def test_the_config_names_the_glue_gateway(glue_server):
    reply = requests.get(
        f"{glue_server.url}smallfry/config",
        headers={"Authorization": f"token {glue_server.token}"},
        timeout=30,
    )
    assert reply.json()["gateway"]["glue"] == "smallfry/aws/glue"


def test_the_panel_reads_and_register_as_table_adds_through_the_gateway(glue_server, direct_glue):
    glue = gateway_client(glue_server, "glue")
    glue.create_database(DatabaseInput={"Name": "gw_sales"})
    glue.create_table(
        DatabaseName="gw_sales",
        TableInput={
            "Name": "orders",
            "PartitionKeys": [{"Name": "year", "Type": "int"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "amount", "Type": "double"}],
                "Location": "s3://smallfry-test/sales/",
            },
        },
    )
    answer = glue.batch_create_partition(
        DatabaseName="gw_sales",
        TableName="orders",
        PartitionInputList=[
            {
                "Values": [year],
                "StorageDescriptor": {"Location": f"s3://smallfry-test/sales/year={year}/"},
            }
            for year in ("2024", "2025")
        ],
    )
    assert answer.get("Errors", []) == []
    # What Glue itself now holds, read without the gateway.
    partitions = direct_glue.get_partitions(DatabaseName="gw_sales", TableName="orders")
    assert sorted(p["Values"][0] for p in partitions["Partitions"]) == ["2024", "2025"]
    # And what the panel reads back through the gateway.
    assert "gw_sales" in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    assert glue.get_database(Name="gw_sales")["Database"]["Name"] == "gw_sales"
    assert [t["Name"] for t in glue.get_tables(DatabaseName="gw_sales")["TableList"]] == ["orders"]
    table = glue.get_table(DatabaseName="gw_sales", Name="orders")["Table"]
    assert table["PartitionKeys"] == [{"Name": "year", "Type": "int"}]
    assert len(glue.get_partitions(DatabaseName="gw_sales", TableName="orders")["Partitions"]) == 2


def test_a_taken_name_comes_back_as_glues_own_error(glue_server, kept_table):
    glue = gateway_client(glue_server, "glue")
    database, name = kept_table
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        glue.create_table(DatabaseName=database, TableInput={"Name": name})
    assert caught.value.response["Error"]["Code"] == "AlreadyExistsException"


@pytest.mark.parametrize(
    "action, call",
    [
        ("DeleteTable", lambda g, d, t: g.delete_table(DatabaseName=d, Name=t)),
        ("DeleteDatabase", lambda g, d, t: g.delete_database(Name=d)),
        (
            "UpdateTable",
            lambda g, d, t: g.update_table(
                DatabaseName=d,
                TableInput={"Name": t, "StorageDescriptor": {"Location": "s3://elsewhere/"}},
            ),
        ),
        (
            "BatchDeleteTable",
            lambda g, d, t: g.batch_delete_table(DatabaseName=d, TablesToDelete=[t]),
        ),
    ],
)
def test_changes_and_deletions_are_refused(glue_server, direct_glue, kept_table, action, call):
    glue = gateway_client(glue_server, "glue")
    with pytest.raises(botocore.exceptions.ClientError, match="c.SmallFry.glue_actions"):
        call(glue, *kept_table)
    assert_refused(glue_post(glue_server, f"AWSGlue.{action}", {"Name": kept_table[0]}), action)
    assert_kept(direct_glue, kept_table)


def raw_glue_post(server, header_lines: list[tuple[str, str]], body: bytes = b"{}"):
    """A POST with exactly these header lines, repeats included (requests merges them)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.putrequest("POST", "/smallfry/aws/glue/")
        for name, value in [
            ("Authorization", f"token {server.token}"),
            ("Content-Type", JSON),
            ("Content-Length", str(len(body))),
            *header_lines,
        ]:
            conn.putheader(name, value)
        conn.endheaders(body)
        reply = conn.getresponse()
        return reply.status, reply.getheader("X-Smallfry-Error"), reply.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "targets",
    [
        ["AWSGlue.GetTables", "AWSGlue.DeleteTable"],
        ["AWSGlue.DeleteTable", "AWSGlue.GetTables"],
        ["AWSGlue.GetTables", "AWSGlue.GetTables"],
    ],
)
def test_a_repeated_target_header_is_refused(glue_server, direct_glue, kept_table, targets):
    database, name = kept_table
    body = json.dumps({"DatabaseName": database, "Name": name}).encode()
    status, code, text = raw_glue_post(
        glue_server, [("X-Amz-Target", target) for target in targets], body
    )
    assert (status, code) == (403, "ActionNotAllowed"), text[:300]
    assert b"more than one X-Amz-Target" in text
    assert_kept(direct_glue, kept_table)


@pytest.mark.parametrize(
    "target, headers, path",
    [
        (None, {}, ""),  # no target at all
        ("AWSGlue.GetTables, AWSGlue.DeleteTable", {}, ""),  # one line, two values
        ("awsglue.DeleteTable", {}, ""),
        ("AWSGlue.", {}, ""),
        ("AWSGlue.GetTables", {}, "?Action=DeleteTable"),
        ("AWSGlue.GetTables", {}, "service/AWSGlue/operation/DeleteTable"),
        ("AWSGlue.GetTables", {"Content-Type": "application/x-www-form-urlencoded"}, ""),
        ("AWSGlue.GetTables", {"Content-Type": "application/cbor"}, ""),
        ("AWSGlue.GetTables", {"Content-Encoding": "gzip"}, ""),
    ],
)
def test_smuggled_unreadable_or_missing_targets_are_refused(
    glue_server, direct_glue, kept_table, target, headers, path
):
    body = {"DatabaseName": kept_table[0], "Name": kept_table[1]}
    assert_refused(glue_post(glue_server, target, body, headers, path))
    assert_kept(direct_glue, kept_table)


def test_glue_calls_are_posts(glue_server):
    reply = requests.get(
        f"{glue_server.url}smallfry/aws/glue/",
        headers={
            "Authorization": f"token {glue_server.token}",
            "X-Amz-Target": "AWSGlue.GetTables",
        },
        timeout=30,
    )
    assert_refused(reply)


def test_the_glue_allow_list_is_a_setting(moto_url, direct_glue):
    with jupyter_server(
        f"--SmallFry.glue_endpoint_url={moto_url}", "--SmallFry.glue_actions=GetDatabases"
    ) as srv:
        assert glue_post(srv, "AWSGlue.GetDatabases").status_code == 200
        assert_refused(
            glue_post(srv, "AWSGlue.CreateDatabase", {"DatabaseInput": {"Name": "gw_nope"}}),
            "CreateDatabase",
        )
    names = [d["Name"] for d in direct_glue.get_databases()["DatabaseList"]]
    assert "gw_nope" not in names


def test_glue_endpoint_comes_from_the_setting_or_botocores_variables(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_GLUE", raising=False)
    aws = Endpoints("", "", "eu-west-3", "auto")
    assert aws.resolve("glue", "/", "").url == "https://glue.eu-west-3.amazonaws.com/"
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", "http://glue.local:5000")
    assert Endpoints("", "", "eu-west-3", "auto").resolve("glue", "", "").url == (
        "http://glue.local:5000/"
    )
    configured = Endpoints("", "", "eu-west-3", "auto", glue_url="http://10.0.0.5:9999/")
    upstream = configured.resolve("glue", "/", "")
    assert (upstream.url, upstream.service, upstream.region) == (
        "http://10.0.0.5:9999/",
        "glue",
        "eu-west-3",
    )


def test_the_action_is_read_only_from_one_target_header():
    headers = HTTPHeaders({"X-Amz-Target": "AWSGlue.GetPartitions", "Content-Type": JSON})
    assert glue_action("POST", "/", "", headers) == "GetPartitions"
    with pytest.raises(ActionError, match="POST"):
        glue_action("PUT", "/", "", headers)
