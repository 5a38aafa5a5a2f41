"""Tell people about a run: e-mail, Slack, Microsoft Teams and generic JSON webhooks.

The runner calls :func:`notify_run` on the last failed try, on success, and once when a run
is still going after ``on_duration_over.seconds``. Each destination of the event gets one
message (see :mod:`.notify_messages` for what it says); where webhooks and the mail server are
comes from :mod:`.notify_targets` (Airflow connections, Secrets Manager). The outcome of each
is one ``{"event", "type", "target", "ok", "error"}`` for run.json, where ``target`` is the
connection id, the secret's name or the e-mail address: a webhook URL is a secret and never
appears in results, logs or exceptions.

A notification must never fail a run: nothing here raises, every network call has a timeout,
redirects are not followed (a webhook that redirects is misconfigured, and following it would
send the message somewhere nobody named).
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import os
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage

from . import notify_messages as messages
from .notify_targets import (
    TargetError,
    flag,
    get_connection,
    secret_url,
    smtp_connection,
    webhook_url,
)

log = logging.getLogger(__name__)

#: Seconds to wait for a webhook or the mail server.
TIMEOUT_SECONDS = 10
EVENTS = ("failure", "success", "duration_over")
_WEBHOOK_TYPES = ("slack", "teams", "webhook")
_ADDRESS = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_MAX_DESTINATIONS = 20
#: Why a secret reference is refused where specs are signed and the job has no run-as keys.
NO_RUN_AS = "a secret is read as the job's owner; this job has no run_as role"


def destinations(spec: dict, event: str) -> list[dict]:
    """The destinations of ``event`` in ``spec``, each as ``{"type", "to"|"connection"|"secret"}``."""
    notes = spec.get("notifications") or {}
    if event == "duration_over":
        listed = (notes.get("on_duration_over") or {}).get("to") or []
    else:
        listed = notes.get(f"on_{event}") or []
    out = []
    for dest in listed[:_MAX_DESTINATIONS] if isinstance(listed, list) else []:
        if isinstance(dest, str):
            out.append({"type": "email", "to": dest})
        elif isinstance(dest, dict):
            out.append(dest)
    return out


def notify_run(
    spec: dict,
    manifest: dict,
    event: str,
    *,
    aws_env: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[dict]:
    """Send ``event`` (``failure``, ``success`` or ``duration_over``) about this run to every
    destination the spec names for it; return one result per destination. Never raises.

    ``aws_env``: the run-as keys (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
    ``AWS_SESSION_TOKEN``) Secrets Manager references are read with. ``environ``: the runner's
    environment (``AIRFLOW_CONN_*``, ``SMALLFRY_SMTP_CONNECTION``, ``SMALLFRY_LAB_URL``, the
    AWS endpoints); default ``os.environ``, and then, inside Airflow, Airflow's connections.
    """
    try:
        if event not in EVENTS:
            raise ValueError(event)
        dests = destinations(spec, event)
        if not dests:
            return []
        env = os.environ if environ is None else environ
        facts = messages.facts(spec, manifest, event, env)
    except Exception as err:  # noqa: BLE001 - a notification must never fail the run
        log.warning("Small Fry notifications for %s skipped: %s", event, type(err).__name__)
        return []
    run_id = facts["run"]["id"]
    results = []
    for dest in dests:
        result = _send(dest, event, facts, aws_env, environ, env)
        if result["ok"]:
            log.info(
                "Small Fry run %s: %s notification sent (%s %s)",
                run_id,
                event,
                result["type"],
                result["target"],
            )
        else:
            log.warning(
                "Small Fry run %s: %s notification to %s %s not sent: %s",
                run_id,
                event,
                result["type"],
                result["target"],
                result["error"],
            )
        results.append(result)
    return results


def _send(dest: dict, event: str, facts: dict, aws_env, environ, env) -> dict:
    kind = str(dest.get("type") or "")
    target = str(dest.get("to") or dest.get("connection") or dest.get("secret") or "")[:512]
    result = {"event": event, "type": kind, "target": target, "ok": False, "error": None}
    try:
        if kind == "email":
            _send_email(target, facts, environ)
        elif kind in _WEBHOOK_TYPES:
            url = _resolve_webhook(dest, aws_env, environ, env)
            post_json(url, _webhook_body(kind, facts))
        else:
            raise TargetError("unknown destination type")
        result["ok"] = True
    except TargetError as err:
        result["error"] = str(err)
    except Exception as err:  # noqa: BLE001 - the text may quote a URL; keep only the kind
        result["error"] = f"unexpected error ({type(err).__name__})"
    return result


def _resolve_webhook(dest: dict, aws_env, environ, env) -> str:
    if "connection" in dest:
        return webhook_url(get_connection(str(dest["connection"]), environ))
    if "secret" in dest:
        keys = aws_env if _has_keys(aws_env) else None
        if keys is None and _signing_configured(env):
            # Without the run-as keys the read would use the worker's own identity, which
            # may read every user's secrets.
            raise TargetError(NO_RUN_AS)
        return secret_url(str(dest["secret"]), keys, env)
    raise TargetError("the destination names no connection or secret")


def _has_keys(aws_env) -> bool:
    return bool(
        aws_env and aws_env.get("AWS_ACCESS_KEY_ID") and aws_env.get("AWS_SECRET_ACCESS_KEY")
    )


def _signing_configured(env: Mapping[str, str]) -> bool:
    from .signing import SigningKeyError, load_key

    try:
        return load_key(env) is not None
    except SigningKeyError:
        return True  # a broken key setting is still a signed deployment


def _webhook_body(kind: str, facts: dict) -> dict:
    if kind == "slack":
        return messages.slack_message(facts)
    if kind == "teams":
        return messages.teams_message(facts)
    return facts


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx answer surfaces as an HTTPError


def post_json(url: str, body: dict, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """POST ``body`` as JSON to ``url``; a non-2xx answer or no answer raises
    :class:`TargetError` with a reason that does not include the URL."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "smallfry-notify/1"},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as answer:
            answer.read(65536)
    except urllib.error.HTTPError as err:
        err.close()
        raise TargetError(f"the receiver answered HTTP {err.code}") from None
    except urllib.error.URLError as err:
        raise TargetError(_network_reason(err.reason, timeout)) from None
    except (OSError, http.client.HTTPException) as err:
        raise TargetError(_network_reason(err, timeout)) from None


def _network_reason(err, timeout: float) -> str:
    """Why a connection failed, from the error's kind and errno only (their text can name the
    host or the URL)."""
    if isinstance(err, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(err, socket.gaierror):
        return "the receiver's host name cannot be resolved"
    if isinstance(err, ssl.SSLError):
        return f"TLS failed ({getattr(err, 'reason', None) or type(err).__name__})"
    if isinstance(err, OSError) and err.errno in errno.errorcode:
        return f"cannot connect ({os.strerror(err.errno).lower()})"
    if isinstance(err, http.client.HTTPException):
        return f"the receiver's answer is not HTTP ({type(err).__name__})"
    return f"cannot connect ({type(err).__name__})"


def _send_email(to: str, facts: dict, environ) -> None:
    if not _ADDRESS.match(to) or len(to) > 254:
        raise TargetError("not an e-mail address")
    conn_id, conn = smtp_connection(environ)
    if not conn.host:
        raise TargetError(f"the SMTP connection {conn_id} has no host")
    sender = str(conn.extra.get("from_email") or "")
    if not sender and _ADDRESS.match(conn.login or ""):
        sender = conn.login
    if not sender or not _ADDRESS.match(sender):
        raise TargetError(f"the SMTP connection {conn_id} has no from_email")
    message = EmailMessage()
    message["Subject"] = messages.email_subject(facts)
    message["From"] = sender
    message["To"] = to
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    message.set_content(messages.email_body(facts))
    # Airflow's SMTP provider: SSL unless extra.disable_ssl, else STARTTLS unless
    # extra.disable_tls; login when the connection has one.
    use_ssl = not flag(conn.extra, "disable_ssl")
    starttls = not use_ssl and not flag(conn.extra, "disable_tls")
    try:
        timeout = min(float(conn.extra.get("timeout") or TIMEOUT_SECONDS), 60.0)
    except (TypeError, ValueError):
        timeout = TIMEOUT_SECONDS
    port = conn.port or (465 if use_ssl else 587 if starttls else 25)
    if conn.extra.get("ssl_context") == "none":  # Airflow's setting: no certificate checks
        context = ssl._create_unverified_context()
    else:
        context = ssl.create_default_context()
    try:
        if use_ssl:
            client = smtplib.SMTP_SSL(conn.host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(conn.host, port, timeout=timeout)
        with client:
            if starttls:
                try:
                    client.starttls(context=context)
                except smtplib.SMTPNotSupportedError:
                    raise TargetError(
                        f"the SMTP server of {conn_id} does not offer STARTTLS"
                    ) from None
                client.ehlo()
            if conn.login and conn.password:
                try:
                    client.login(conn.login, conn.password)
                except smtplib.SMTPNotSupportedError:
                    raise TargetError(
                        f"the SMTP server of {conn_id} offers no login (AUTH)"
                    ) from None
            client.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise TargetError(f"the SMTP server of {conn_id} refused the login") from None
    except smtplib.SMTPRecipientsRefused:
        raise TargetError("the SMTP server refused the address") from None
    except smtplib.SMTPResponseException as err:
        raise TargetError(f"the SMTP server of {conn_id} answered {err.smtp_code}") from None
    except smtplib.SMTPException as err:
        raise TargetError(f"the SMTP server of {conn_id} failed ({type(err).__name__})") from None
    except OSError as err:
        raise TargetError(
            _network_reason(err, timeout).replace("receiver", "SMTP server")
        ) from None
