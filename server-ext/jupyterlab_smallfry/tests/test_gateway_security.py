"""What browser JavaScript can and cannot get from the gateway: no STS action that hands out
keys.

The session's Jupyter server and moto (which implements GetSessionToken, AssumeRole and
GetFederationToken, so a call that got through would really return keys).
"""

from __future__ import annotations

import botocore.exceptions
import botocore.parsers
import pytest
import requests

from .conftest import gateway_client
from .processes import jupyter_server

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ROLE = "arn:aws:iam::123456789012:role/anything"


def sts_post(server, body: str, query: str = "", headers=None) -> requests.Response:
    """A query-protocol call as @aws-sdk/client-sts sends it: a form POST to the gateway."""
    return requests.post(
        f"{server.url}smallfry/aws/sts/{query}",
        data=body.encode(),
        headers={"Authorization": f"token {server.token}", **FORM, **(headers or {})},
        timeout=60,
    )


def assert_refused(reply: requests.Response, action: str | None = None) -> None:
    assert reply.status_code == 403, (reply.status_code, reply.text[:300])
    assert reply.headers["X-Smallfry-Error"] == "ActionNotAllowed"
    message = reply.json()["message"]
    assert "c.SmallFry.sts_actions" in message
    if action:
        assert action in message
    assert "<Credentials>" not in reply.text and "SecretAccessKey" not in reply.text


@pytest.mark.parametrize(
    "action, call",
    [
        ("GetSessionToken", lambda sts: sts.get_session_token()),
        ("AssumeRole", lambda sts: sts.assume_role(RoleArn=ROLE, RoleSessionName="nb")),
        ("GetFederationToken", lambda sts: sts.get_federation_token(Name="nb")),
    ],
)
def test_sts_actions_that_return_keys_are_refused(server, action, call):
    # botocore reads STS answers as XML: the gateway's JSON refusal is an unreadable answer.
    refused = (botocore.exceptions.ClientError, botocore.parsers.ResponseParserError)
    with pytest.raises(refused, match="ActionNotAllowed"):
        call(gateway_client(server, "sts"))
    assert_refused(sts_post(server, f"Action={action}&Version=2011-06-15&RoleArn={ROLE}"), action)
    get = requests.get(
        f"{server.url}smallfry/aws/sts/?Action={action}&Version=2011-06-15&Name=nb",
        headers={"Authorization": f"token {server.token}"},
        timeout=60,
    )
    assert_refused(get, action)


def test_get_caller_identity_still_answers_the_credentials_widget(server):
    assert gateway_client(server, "sts").get_caller_identity()["Account"] == "123456789012"
    reply = sts_post(server, "Action=GetCallerIdentity&Version=2011-06-15")  # as the JS SDK
    assert reply.status_code == 200 and "<GetCallerIdentityResponse" in reply.text


@pytest.mark.parametrize(
    "query, body, headers",
    [
        ("", "Version=2011-06-15", {}),  # no Action at all
        ("", "Action=&Version=2011-06-15", {}),
        ("", "Action=getcalleridentity&Version=2011-06-15", {}),  # AWS compares exactly
        ("", "Action=GetCallerIdentity&Action=GetSessionToken", {}),
        ("", "Action=GetCallerIdentity&action=GetSessionToken", {}),
        ("", "Action=Get%53essionToken", {}),  # percent-encoded, decoded by STS
        ("?Action=GetSessionToken", "Action=GetCallerIdentity", {}),
        ("?Action=GetCallerIdentity", "Action=GetSessionToken", {}),
        ("", "Action=GetCallerIdentity%FF", {}),  # not UTF-8
        ("", '{"Action": "GetSessionToken"}', {"Content-Type": "application/x-amz-json-1.0"}),
        ("", "{}", {"X-Amz-Target": "AWSSecurityTokenServiceV20110615.GetSessionToken"}),
        ("", "Action=GetCallerIdentity", {"Content-Encoding": "gzip"}),
        ("service/sts/operation/GetSessionToken", "Action=GetCallerIdentity", {}),
    ],
)
def test_smuggled_unreadable_or_missing_actions_are_refused(server, query, body, headers):
    assert_refused(sts_post(server, body, query, headers))


def test_the_allow_list_is_a_setting(moto_url):
    with jupyter_server(
        f"--SmallFry.sts_endpoint_url={moto_url}", "--SmallFry.sts_actions=GetSessionToken"
    ) as srv:
        assert sts_post(srv, "Action=GetSessionToken").status_code == 200
        assert_refused(sts_post(srv, "Action=GetCallerIdentity"), "GetCallerIdentity")
