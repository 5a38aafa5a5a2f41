"""S3 checks the gateway's signatures, and a refusal reaches the user as S3's own error.

AWS S3 refuses a request signed with the wrong secret key (403 ``SignatureDoesNotMatch``) or
naming an access key it does not know (403 ``InvalidAccessKeyId``): "Error responses" in the
Amazon S3 API reference. The front end turns exactly these codes into "your AWS credentials
have expired or are not valid" with a way to refresh them (``src/s3/errors.ts``), so the
gateway must pass them on as S3 sent them: status, code, no object written.

moto checks no signature at all: there every request below would succeed. So these tests run
against Ceph's radosgw only, which checks SigV4 like S3; the gateway's correct signatures
(odd keys, multipart, copies) are the other gateway suites' work on the same server.
"""

from __future__ import annotations

import botocore.exceptions
import pytest
import requests

from .processes import gateway_client, jupyter_server

#: Only a server that checks signatures can tell a wrong one; moto accepts any.
pytestmark = pytest.mark.parametrize("s3_backend", ["ceph"], indirect=True)

WRONG_SECRET = "wrong/secret+key-for-the-gateway-0123456789"
UNKNOWN_ACCESS_KEY = "AKIASMALLFRYUNKNOWN1"


@pytest.fixture(
    scope="module",
    params=[("wrong-secret", "SignatureDoesNotMatch"), ("unknown-key", "InvalidAccessKeyId")],
    ids=lambda p: p[0],
)
def misconfigured(request, s3_backend):
    """A Jupyter server whose keys S3 must refuse, and the error code S3 refuses them with."""
    which, code = request.param
    access_key, secret_key = s3_backend.access_key, s3_backend.secret_key
    if which == "wrong-secret":
        secret_key = WRONG_SECRET
    else:
        access_key = UNKNOWN_ACCESS_KEY
    with jupyter_server(
        f"--SmallFry.endpoint_url={s3_backend.endpoint_url}",
        f"--SmallFry.region={s3_backend.region}",
        env={
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_SESSION_TOKEN": "",
        },
    ) as srv:
        yield srv, code, (access_key, secret_key)


def test_the_server_itself_refuses_a_wrong_signature(s3_backend, backend_bucket):
    """The premise of this module: the S3 server under test checks signatures as S3 does."""
    with pytest.raises(botocore.exceptions.ClientError) as err:
        s3_backend.client(secret_key=WRONG_SECRET).list_objects_v2(Bucket=backend_bucket)
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_writes_signed_with_refused_keys_fail_with_s3s_code_and_store_nothing(
    misconfigured, backend_s3, backend_bucket
):
    srv, code, _keys = misconfigured
    with pytest.raises(botocore.exceptions.ClientError) as err:
        gateway_client(srv).put_object(Bucket=backend_bucket, Key="nb.ipynb", Body=b"{}")
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert backend_s3.list_objects_v2(Bucket=backend_bucket)["KeyCount"] == 0


def test_reads_signed_with_refused_keys_get_s3s_refusal_not_the_object(
    misconfigured, backend_s3, backend_bucket
):
    srv, code, (_access_key, secret_key) = misconfigured
    backend_s3.put_object(Bucket=backend_bucket, Key="secret.csv", Body=b"confidential")
    reply = requests.get(
        f"{srv.url}smallfry/aws/s3/{backend_bucket}/secret.csv",
        headers={"Authorization": f"token {srv.token}"},
        timeout=60,
    )
    assert reply.status_code == 403
    # S3's own XML error, not one of the gateway's (those carry X-Smallfry-Error): the front
    # end reads the code from it and offers to refresh the credentials.
    assert "X-Smallfry-Error" not in reply.headers
    assert f"<Code>{code}</Code>" in reply.text
    assert b"confidential" not in reply.content
    # The secret the gateway signed with never comes back (the access key id may: S3 names
    # an unknown one in its error, as AWS does).
    assert secret_key not in reply.text and secret_key not in str(reply.headers)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        gateway_client(srv).list_objects_v2(Bucket=backend_bucket)
    assert err.value.response["Error"]["Code"] == code
