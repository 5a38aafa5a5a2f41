"""SigV4 signing of forwarded requests with botocore's signers.

The request is forwarded with its path and query exactly as the browser encoded them; only
the signature is computed over AWS's canonical form of the same path and query, so any
valid percent-encoding the SDK chose (``%20``, ``%2B``, ``%27``…) signs correctly.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from ..credentials import AwsCredentials

#: Headers we add ourselves; anything the browser sent under these names is dropped.
SIGNING_HEADERS = ("authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256")

_UNRESERVED = "-_.~"
_UNSIGNED_PAYLOAD = Config(s3={"payload_signing_enabled": False})


def _canonical_path(raw_path: str) -> str:
    return "/".join(quote(unquote(seg), safe=_UNRESERVED) for seg in raw_path.split("/"))


def _canonical_query(raw_query: str) -> str:
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        key, _, value = pair.partition("=")
        pairs.append(
            f"{quote(unquote(key), safe=_UNRESERVED)}={quote(unquote(value), safe=_UNRESERVED)}"
        )
    return "&".join(pairs)


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    creds: AwsCredentials,
    region: str,
    service: str,
    body: bytes | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus the SigV4 headers for a request to ``url``.

    ``body=None`` means a streamed body: S3 then signs ``UNSIGNED-PAYLOAD`` (allowed by S3,
    also on plain http). Other services need the body to sign it.
    """
    parts = urlsplit(url)
    canonical_url = urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            _canonical_path(parts.path or "/"),
            _canonical_query(parts.query),
            "",
        )
    )
    request = AWSRequest(method=method, url=canonical_url, headers=dict(headers), data=body or b"")
    if service == "s3":
        if body is None:
            # A streamed body is never hashed. botocore hashes S3 payloads on plain http
            # unless the client config says otherwise, so say it the way botocore reads it.
            request.context["client_config"] = _UNSIGNED_PAYLOAD
        signer = S3SigV4Auth(_botocore_creds(creds), "s3", region)
    else:
        signer = SigV4Auth(_botocore_creds(creds), service, region)
    signer.add_auth(request)
    return dict(request.headers.items())


def _botocore_creds(creds: AwsCredentials) -> Credentials:
    return Credentials(creds.access_key, creds.secret_key, creds.token)
