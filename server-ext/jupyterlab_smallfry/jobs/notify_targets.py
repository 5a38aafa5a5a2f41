"""Where a notification goes: webhook URLs from Airflow connections or Secrets Manager, and the
SMTP connection for e-mail.

A spec names a webhook only by reference (``jobspec.schema.json``): an Airflow connection whose
id starts with ``smallfry_notify_`` (operators decide which exist) or a Secrets Manager secret
read as the job's owner. The URL itself is a secret (anyone who has it can post into the
channel), so nothing here puts a URL, a password or a secret value into an exception message:
:class:`TargetError` carries a short reason meant for run.json and logs.

Connections are read the way Airflow reads them. Inside an Airflow task process (``airflow``
already imported) through the Task SDK's ``BaseHook.get_connection``, which also sees
Airflow's secrets backends and its database; elsewhere (the server's own runs, a pod) from the
``AIRFLOW_CONN_<ID>`` variable, in Airflow's URI form or its JSON form (a value starting with
``{``), parsed as Airflow parses them.

A webhook connection's URL, in this order:

1. ``password`` when it is a whole ``http(s)://`` URL (the Slack webhook connection's way, and
   the field Airflow masks in its UI and logs);
2. ``host`` when it is a whole URL, followed by ``/<schema>`` if the schema is set: the URI form
   ``AIRFLOW_CONN_X='http://https%3A%2F%2Fhooks.example.com/services/T0/B0/abc'`` and the JSON
   form ``{"conn_type": "http", "host": "https://hooks.example.com/services/T0/B0/abc"}``;
3. otherwise built like Airflow's HTTP connection: protocol = ``schema`` when it is ``http`` or
   ``https``, else the connection type when that is ``http``/``https``, else ``https``; then
   the host, ``:port`` when set, and the path: ``extra.endpoint`` when the schema was the
   protocol, else the schema (Airflow's URI parser puts the URI's path there), so the plain
   ``AIRFLOW_CONN_X='https://hooks.example.com/services/T0/B0/abc'`` works too.

Only ``https://`` and ``http://`` URLs are used.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import sys
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

#: Prefix of the Airflow connections a spec may name (the schema enforces it too).
CONNECTION_PREFIX = "smallfry_notify_"
#: The variable naming the SMTP connection for e-mail, and its default.
SMTP_CONNECTION_ENV = "SMALLFRY_SMTP_CONNECTION"
DEFAULT_SMTP_CONNECTION = "smtp_default"
#: Longest webhook URL accepted (Slack's and Teams' are well under 1 KiB).
MAX_URL_CHARS = 2048

_AWS_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class TargetError(Exception):
    """A destination cannot be resolved or reached. The message is short and safe to record:
    it never holds a URL, a password or a secret's value."""


@dataclasses.dataclass(frozen=True)
class Connection:
    """The fields of an Airflow connection that notifications use."""

    conn_type: str = ""
    host: str = ""
    schema: str = ""
    login: str = ""
    password: str = dataclasses.field(default="", repr=False)
    port: int | None = None
    extra: dict = dataclasses.field(default_factory=dict, repr=False)


def parse_connection(value: str) -> Connection:
    """An ``AIRFLOW_CONN_*`` value in Airflow's JSON form (starts with ``{``) or URI form."""
    value = value.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            raise TargetError("the connection's JSON cannot be read") from None
        if not isinstance(data, dict):
            raise TargetError("the connection's JSON is not an object")
        return Connection(
            conn_type=str(data.get("conn_type") or ""),
            host=str(data.get("host") or ""),
            schema=str(data.get("schema") or ""),
            login=str(data.get("login") or ""),
            password=str(data.get("password") or ""),
            port=_port(data.get("port")),
            extra=_extra(data.get("extra")),
        )
    return _parse_uri(value)


def _parse_uri(uri: str) -> Connection:
    # Airflow's own rules: "<type>://<login>:<password>@<host>:<port>/<schema>?<extra>", where the
    # host may carry its own protocol ("http://https://host/...") and every part is %-encoded.
    if uri.count("://") not in (1, 2):
        raise TargetError("the connection is not an Airflow connection URI")
    with_protocol = uri.count("://") == 2
    conn_type = urlsplit(uri).scheme
    if not conn_type:
        raise TargetError("the connection is not an Airflow connection URI")
    rest = uri.replace(f"{conn_type}://", "" if with_protocol else "//", 1)
    if with_protocol:
        before = rest.split("://", 1)[0]
        if "@" in before or ":" in before:
            raise TargetError("the connection is not an Airflow connection URI")
    try:
        parts = urlsplit(rest)
        port = parts.port
    except ValueError:
        raise TargetError("the connection's port is not a number") from None
    host = unquote(parts.hostname or "")
    if "/" in host:  # an encoded path in the host: take the netloc as written
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        host = unquote(host)
    if host and with_protocol:
        host = f"{parts.scheme}://{host}"
    extra: dict = {}
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = _extra(query["__extra__"]) if "__extra__" in query else query
    return Connection(
        conn_type=conn_type.replace("-", "_"),
        host=host,
        schema=unquote(parts.path[1:]),
        login=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        port=port,
        extra=extra,
    )


def _port(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TargetError("the connection's port is not a number") from None


def _extra(value) -> dict:
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return value
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        raise TargetError("the connection's extra is not JSON") from None
    return data if isinstance(data, dict) else {}


def get_connection(conn_id: str, environ: Mapping[str, str] | None = None) -> Connection:
    """The Airflow connection ``conn_id``; raises :class:`TargetError` when there is none.

    With ``environ`` given, only its ``AIRFLOW_CONN_*`` variables count (tests, and callers that
    built the runner's environment themselves)."""
    if environ is None and "airflow" in sys.modules:
        return _airflow_connection(conn_id)
    env = os.environ if environ is None else environ
    value = env.get("AIRFLOW_CONN_" + conn_id.upper())
    if not value:
        raise TargetError(f"no Airflow connection {conn_id}")
    return parse_connection(value)


def _airflow_connection(conn_id: str) -> Connection:
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception as err:  # noqa: BLE001 - Airflow's errors vary by version; say not found
        # The exception's text may quote the connection; record only its kind.
        raise TargetError(f"no Airflow connection {conn_id} ({type(err).__name__})") from None
    return Connection(
        conn_type=conn.conn_type or "",
        host=conn.host or "",
        schema=conn.schema or "",
        login=conn.login or "",
        password=conn.password or "",
        port=conn.port,
        extra=_extra(getattr(conn, "extra_dejson", None) or conn.extra),
    )


def webhook_url(conn: Connection) -> str:
    """The webhook URL a connection holds (see the module's docstring for the rules)."""
    if _is_url(conn.password):
        return check_url(conn.password)
    if _is_url(conn.host):
        url = conn.host.rstrip("/") + ("/" + conn.schema.lstrip("/") if conn.schema else "")
        return check_url(url)
    if not conn.host:
        raise TargetError("the connection has no webhook URL (host or password)")
    schema_is_protocol = conn.schema.lower() in ("http", "https")
    if schema_is_protocol:
        protocol, path = conn.schema.lower(), str(conn.extra.get("endpoint") or "")
    else:
        protocol = (
            conn.conn_type.lower() if conn.conn_type.lower() in ("http", "https") else "https"
        )
        path = conn.schema
    url = f"{protocol}://{conn.host}" + (f":{conn.port}" if conn.port else "")
    if path:
        url += "/" + path.lstrip("/")
    return check_url(url)


def _is_url(text: str) -> bool:
    return text.lower().startswith(("https://", "http://"))


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL a notification may be posted to, else TargetError.

    The cloud metadata service (169.254.169.254, fd00:ec2::254) is refused: a URL from a secret
    is the job owner's choice, and the worker's own instance credentials live there."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS or not _is_url(url.strip()):
        raise TargetError("the webhook URL is not an HTTP(S) URL")
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise TargetError("the webhook URL cannot be read") from None
    if not parts.hostname or any(ch.isspace() for ch in url):
        raise TargetError("the webhook URL cannot be read")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        address = None
    if address is not None and address.is_link_local:
        raise TargetError("the webhook URL points at a link-local address")
    return url


def secret_url(name: str, aws_env: Mapping[str, str] | None, environ: Mapping[str, str]) -> str:
    """The webhook URL held by the Secrets Manager secret ``name`` (name or ARN), read with the
    run-as keys in ``aws_env`` (else this process's own credentials). The value is the URL or
    JSON ``{"url": …}``."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    keys = {k: (aws_env or {}).get(k) or None for k in _AWS_KEYS}
    region = (
        (aws_env or {}).get("AWS_REGION")
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or _arn_region(name)
        or "us-east-1"
    )
    endpoint = environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or environ.get("AWS_ENDPOINT_URL")
    try:
        client = boto3.session.Session().client(
            "secretsmanager",
            region_name=region,
            endpoint_url=endpoint or None,
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=keys["AWS_SESSION_TOKEN"],
        )
        reply = client.get_secret_value(SecretId=name)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code") or "error")
        code = f"HTTP {code}" if code.isdigit() else code[:100]  # moto answers "403"
        raise TargetError(f"the secret cannot be read ({code})") from None
    except BotoCoreError as err:
        raise TargetError(f"the secret cannot be read ({type(err).__name__})") from None
    value = reply.get("SecretString")
    if not isinstance(value, str):
        raise TargetError("the secret holds no text (a binary secret)")
    value = value.strip()
    if value.startswith("{"):
        try:
            value = json.loads(value).get("url")
        except (ValueError, AttributeError):
            value = None
        if not isinstance(value, str):
            raise TargetError('the secret\'s JSON has no "url"')
    return check_url(value)


def _arn_region(name: str) -> str | None:
    parts = name.split(":")
    return parts[3] if name.startswith("arn:") and len(parts) > 3 and parts[3] else None


def smtp_connection(environ: Mapping[str, str] | None) -> tuple[str, Connection]:
    """The SMTP connection's id and fields (``SMALLFRY_SMTP_CONNECTION``, default
    ``smtp_default``)."""
    env = os.environ if environ is None else environ
    conn_id = env.get(SMTP_CONNECTION_ENV) or DEFAULT_SMTP_CONNECTION
    return conn_id, get_connection(conn_id, environ)


def flag(extra: dict, name: str) -> bool:
    """An extra's boolean as people write it (URI extras are strings: ``"false"`` is false,
    unlike ``bool("false")``)."""
    value = extra.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
