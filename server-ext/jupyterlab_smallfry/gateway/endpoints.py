"""Which upstream URL a gateway request goes to, and which STS or Glue action it asks for.

Only configured endpoints are ever reached, and only allow-listed STS and Glue actions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
SERVICES = ("s3", "sts", "glue")


@dataclass(frozen=True)
class Upstream:
    """Where one request goes: the full URL (raw path and query kept) and its signing region."""

    url: str
    region: str
    service: str
    bucket: str = ""


class EndpointError(ValueError):
    """The request cannot be routed to a configured endpoint."""


class ActionError(ValueError):
    """An STS or Glue request whose one action cannot be read for certain."""


_FORM = "application/x-www-form-urlencoded"


def sts_action(method: str, raw_path: str, raw_query: str, headers, body: bytes | None) -> str:
    """The one STS action a gateway request asks for, read as STS would read it.

    STS's query API takes ``Action`` from the query string or from a form body, so both are
    read and must agree. Anything STS could read another way is refused rather than guessed
    at: another path (newer protocols name the operation there), ``X-Amz-Target`` (the JSON
    protocol), an encoded or non-form body, repeated or differently-cased ``Action`` keys
    that disagree, bytes that are not UTF-8.
    """
    if method not in ("GET", "POST"):
        raise ActionError(f"STS calls are GET or POST, not {method}")
    if raw_path not in ("", "/"):
        raise ActionError("STS calls go to the endpoint's root path")
    if "X-Amz-Target" in headers:
        raise ActionError("X-Amz-Target (the JSON protocol) is not forwarded")
    if headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise ActionError("encoded STS bodies are not forwarded")
    pairs = _form_pairs(raw_query)
    if body:
        content_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
        if content_type != _FORM:
            raise ActionError(f"STS bodies must be {_FORM}")
        try:
            pairs += _form_pairs(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise ActionError("the body is not UTF-8") from None
    actions = {value for name, value in pairs if name.lower() == "action"}
    if len(actions) != 1:
        raise ActionError("no Action" if not actions else "more than one Action")
    return actions.pop()


#: The AWS JSON protocol versions Glue speaks (the SDKs send 1.1).
_GLUE_JSON = ("application/x-amz-json-1.1", "application/x-amz-json-1.0")
_GLUE_TARGET = re.compile(r"^AWSGlue\.([A-Za-z]{1,64})$")


def glue_action(method: str, raw_path: str, raw_query: str, headers) -> str:
    """The one Glue action a gateway request asks for, read as Glue would read it.

    Glue's JSON protocol names the operation in the one ``X-Amz-Target`` header
    (``AWSGlue.GetTables``) of a POST to the root path. Anything else that could name an
    operation is refused rather than guessed at: another path (newer protocols put the
    operation there), a query string, a repeated target header (tornado would join the
    values, while the copy sent upstream keeps one of them), another content type or an
    encoded body.
    """
    if method != "POST":
        raise ActionError(f"Glue calls are POST, not {method}")
    if raw_path not in ("", "/"):
        raise ActionError("Glue calls go to the endpoint's root path")
    if raw_query:
        raise ActionError("Glue calls have no query string")
    targets = headers.get_list("X-Amz-Target")
    if len(targets) != 1:
        raise ActionError("no X-Amz-Target" if not targets else "more than one X-Amz-Target")
    if headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise ActionError("encoded Glue bodies are not forwarded")
    content_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if content_type not in _GLUE_JSON:
        raise ActionError(f"Glue bodies must be {_GLUE_JSON[0]}")
    match = _GLUE_TARGET.match(targets[0])
    if not match:
        raise ActionError("X-Amz-Target is not AWSGlue.<Action>")
    return match[1]


def _form_pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ActionError("the parameters are not UTF-8") from None


class Endpoints:
    """Resolves ``service`` + raw path to an upstream URL on the configured endpoint.

    The scheme and host always come from configuration; the path from the browser is only
    appended to it, so a crafted path cannot point the gateway at another host.
    """

    def __init__(
        self, s3_url: str, sts_url: str, region: str, addressing_style: str, glue_url: str = ""
    ):
        self.region = region
        self.s3_custom = bool(s3_url or _env_endpoint("S3"))
        self.s3_base = _base(s3_url or _env_endpoint("S3") or _aws_s3(region))
        #: Buckets found in another AWS region than ``region`` (learned from S3's answers).
        self.bucket_regions: dict[str, str] = {}
        sts_default = f"https://sts.{region}.amazonaws.com"
        self.sts_base = _base(sts_url or _env_endpoint("STS") or sts_default)
        self.addressing_style = addressing_style
        glue_default = f"https://glue.{region}.amazonaws.com"
        self.glue_base = _base(glue_url or _env_endpoint("GLUE") or glue_default)

    def resolve(self, service: str, raw_path: str, raw_query: str) -> Upstream:
        """``raw_path`` is what followed ``/smallfry/aws/<service>``, still percent-encoded."""
        if service not in SERVICES:
            raise EndpointError(
                f"Unknown AWS service {service!r}; the gateway serves {', '.join(SERVICES)}."
            )
        if not raw_path.startswith("/"):
            raw_path = "/" + raw_path
        query = f"?{raw_query}" if raw_query else ""
        if service in ("sts", "glue"):
            base = self.sts_base if service == "sts" else self.glue_base
            return Upstream(base.geturl() + raw_path + query, self.region, service)
        bucket, _, rest = raw_path[1:].partition("/")
        region = self.bucket_regions.get(bucket, self.region)
        base = self.s3_base if region == self.region else _base(_aws_s3(region))
        if bucket and self._virtual(bucket):
            host = f"{bucket}.{base.netloc}"
            return Upstream(f"{base.scheme}://{host}/{rest}{query}", region, "s3", bucket)
        return Upstream(base.geturl().rstrip("/") + raw_path + query, region, "s3", bucket)

    def learn_region(self, upstream: Upstream, status: int, headers) -> bool:
        """Note a bucket's real region from an AWS redirect; True if the request went astray."""
        region = headers.get("x-amz-bucket-region", "")
        if (
            upstream.service != "s3"
            or self.s3_custom
            or not upstream.bucket
            or status not in (301, 307, 400)
            or not _REGION.match(region)
            or region == upstream.region
        ):
            return False
        self.bucket_regions[upstream.bucket] = region
        return True

    def _virtual(self, bucket: str) -> bool:
        if self.addressing_style == "path":
            return False
        # Virtual-hosted style only for names that are a single DNS label: a dotted name
        # would break TLS, and anything else could change the host we talk to.
        if not _DNS_BUCKET.match(bucket):
            return False
        return self.addressing_style == "virtual" or not self.s3_custom


_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _aws_s3(region: str) -> str:
    return f"https://s3.{region}.amazonaws.com"


def _env_endpoint(service: str) -> str:
    return os.environ.get(f"AWS_ENDPOINT_URL_{service}") or os.environ.get("AWS_ENDPOINT_URL", "")


def _base(url: str):
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EndpointError(f"Endpoint {url!r} must be an http(s) URL with a host")
    return parts
