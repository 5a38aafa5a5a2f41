"""What a notification says, for each kind of destination.

One set of facts per event (:func:`facts`: job, owner, run, status, duration, the failing cell
and its error, links to the output) rendered four ways: a Slack incoming-webhook message
(``text`` + ``blocks``), a Microsoft Teams webhook message carrying an Adaptive Card, the
generic JSON event, and a plain-text e-mail.

Everything users wrote (titles, ids, error messages, tracebacks) is data: nothing is rendered
as a template, Slack's control characters (``& < >``) and Adaptive Card markdown are escaped,
and every field is bounded, so a notebook's error cannot turn into a link or an ``@channel``,
and a huge traceback cannot make the receiver refuse the message.

The generic webhook's JSON (documented in the README)::

    {"event": "run.failed" | "run.succeeded" | "run.duration_over",
     "job": {"id", "title", "owner"},
     "run": {"id", "status", "try_number", "triggered_by", "start", "end",
             "duration_seconds", "duration_over_seconds" (duration_over only),
             "output_uri", "html_uri", "lab_url",
             "error": null | {"type", "message", "execution_count", "cell_index",
                              "traceback_tail"}}}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from urllib.parse import quote

from ..contract import DRIVE_NAME, URI_SCHEME

#: The generic webhook's event name per notification event.
EVENT_NAMES = {
    "failure": "run.failed",
    "success": "run.succeeded",
    "duration_over": "run.duration_over",
}
#: The operator's setting that makes messages link into JupyterLab, e.g.
#: ``https://hub.example.com/user/{owner}/lab`` (``{owner}`` is replaced, %-encoded).
LAB_URL_ENV = "SMALLFRY_LAB_URL"

_MAX_TITLE = 200
_MAX_ID = 250
_MAX_MESSAGE = 500
_MAX_TAIL_LINES = 8
_MAX_TAIL = 1500
_MAX_SUBJECT = 200


def _bound(text, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text, limit: int) -> str:
    return _bound(" ".join(str(text or "").split()), limit)


def format_duration(seconds) -> str:
    """``4.2 s``, ``2 min 5 s``, ``3 h 7 min``; ``unknown`` without a number."""
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(whole, 3600)
    return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")


def _elapsed(manifest: dict) -> float | None:
    if isinstance(manifest.get("duration_seconds"), (int, float)):
        return float(manifest["duration_seconds"])
    if isinstance(manifest.get("elapsed_seconds"), (int, float)):
        return float(manifest["elapsed_seconds"])
    try:
        start = dt.datetime.fromisoformat(str(manifest["start"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return round((dt.datetime.now(dt.timezone.utc) - start).total_seconds(), 3)


def lab_link(uri, owner: str, environ: Mapping[str, str]) -> str | None:
    """A JupyterLab URL opening ``uri`` in the S3 browser (``<lab>/tree/S3:bucket/key``), when
    the operator set ``SMALLFRY_LAB_URL``; else None."""
    base = (environ.get(LAB_URL_ENV) or "").strip()
    if not base.lower().startswith(("https://", "http://")) or not isinstance(uri, str):
        return None
    if not uri.startswith(URI_SCHEME):
        return None
    base = base.replace("{owner}", quote(owner, safe="")).rstrip("/")
    return f"{base}/tree/" + quote(f"{DRIVE_NAME}:{uri[len(URI_SCHEME) :]}", safe="/:")


def _traceback_tail(text) -> str:
    lines = [line for line in str(text or "").splitlines() if line.strip()]
    return _bound("\n".join(lines[-_MAX_TAIL_LINES:]), _MAX_TAIL)


def facts(spec: dict, manifest: dict, event: str, environ: Mapping[str, str]) -> dict:
    """The generic webhook event for ``event`` (see the module docstring); the other formats
    render from it."""
    owner = _bound(spec.get("owner") or manifest.get("owner"), _MAX_ID)
    run: dict = {
        "id": _bound(manifest.get("run_id"), _MAX_ID),
        "status": {"failure": "failed", "success": "success"}.get(event, "running"),
        "try_number": manifest.get("try_number"),
        "triggered_by": manifest.get("triggered_by"),
        "start": manifest.get("start"),
        "end": manifest.get("end") if event != "duration_over" else None,
        "duration_seconds": _elapsed(manifest),
        "output_uri": manifest.get("output_uri"),
        "html_uri": manifest.get("html_uri"),
        "lab_url": lab_link(manifest.get("output_uri"), owner, environ),
        "error": None,
    }
    if event == "duration_over":
        over = (spec.get("notifications") or {}).get("on_duration_over") or {}
        run["duration_over_seconds"] = over.get("seconds")
    error = manifest.get("error")
    if event == "failure" and isinstance(error, dict):
        run["error"] = {
            "type": _one_line(error.get("type"), 200),
            "message": _bound(error.get("message"), _MAX_MESSAGE),
            "execution_count": error.get("execution_count"),
            "cell_index": error.get("cell_index"),
            "traceback_tail": _traceback_tail(error.get("traceback")),
        }
    return {
        "event": EVENT_NAMES[event],
        "job": {
            "id": _bound(spec.get("id") or manifest.get("job_id"), _MAX_ID),
            "title": _one_line(spec.get("title") or spec.get("id"), _MAX_TITLE),
            "owner": owner,
        },
        "run": run,
    }


# ----- plain text (e-mail, and the facts every format shows) ------------------------------


def headline(event: dict) -> str:
    """``Failed: <title>`` and the like, plain text."""
    title = event["job"]["title"]
    if event["event"] == "run.failed":
        return f"Failed: {title}"
    if event["event"] == "run.succeeded":
        return f"Succeeded: {title}"
    return (
        f"Still running after {format_duration(event['run'].get('duration_over_seconds'))}: {title}"
    )


def _where(error: dict) -> str:
    count = error.get("execution_count")
    return f"cell [{count}]" if isinstance(count, int) else "the run (outside a notebook cell)"


def fact_lines(event: dict) -> list[tuple[str, str]]:
    """The labelled facts, in the order every format shows them."""
    job, run = event["job"], event["run"]
    lines = [
        ("Job", f"{job['title']} ({job['id']})"),
        ("Owner", job["owner"]),
        ("Run", str(run["id"]) + (f" (try {run['try_number']})" if run.get("try_number") else "")),
        ("Status", run["status"]),
        ("Duration", format_duration(run.get("duration_seconds"))),
    ]
    if run.get("output_uri"):
        lines.append(("Output", run["output_uri"]))
    if run.get("html_uri"):
        lines.append(("HTML", run["html_uri"]))
    return lines


def email_subject(event: dict) -> str:
    """One line, bounded (a title cannot add headers)."""
    return _one_line(f"[Small Fry] {headline(event)} (run {event['run']['id']})", _MAX_SUBJECT)


def email_body(event: dict) -> str:
    run = event["run"]
    out = [headline(event), ""]
    out += [f"{label}: {value}" for label, value in fact_lines(event)]
    if run.get("lab_url"):
        out.append(f"Open in JupyterLab: {run['lab_url']}")
    if run.get("error"):
        err = run["error"]
        out += ["", f"Error in {_where(err)}: {err['type']}: {err['message']}"]
        if err.get("traceback_tail"):
            out += ["", "Traceback (last lines):", err["traceback_tail"]]
    if not run.get("output_uri") and event["event"] == "run.failed":
        out += ["", "No output notebook was written."]
    return "\n".join(out) + "\n"


# ----- Slack ------------------------------------------------------------------------------


def _slack_escape(text) -> str:
    # Slack's mrkdwn control characters; everything else shows as typed.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_plain(text) -> str:
    # A header is plain text, where Slack's escapes would show as typed: angle brackets give
    # way to look-alikes instead, so "<!channel>" cannot become a mention.
    return str(text).replace("<", "‹").replace(">", "›")


#: Slack's limit for a section's text is 3,000 characters.
_MAX_SLACK_CODE = 2800


def _slack_code(text) -> str:
    # Inside ``` … ``` nothing formats; a backtick in the text must not close the block.
    # Escaping can make the text longer, so the limit applies after it, and a cut never
    # leaves half an entity ("&am").
    code = _slack_escape(str(text).replace("`", "ˋ"))
    if len(code) > _MAX_SLACK_CODE:
        code = re.sub(r"&[a-z]{0,3}$", "", code[: _MAX_SLACK_CODE - 1]) + "…"
    return "```" + code + "```"


def slack_message(event: dict) -> dict:
    """An incoming-webhook message: ``text`` (notifications, fallback) and ``blocks``."""
    run = event["run"]
    icon = {"run.failed": "❌", "run.succeeded": "✅"}.get(event["event"], "⏱")
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _bound(f"{icon} {_slack_plain(headline(event))}", 150),
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{label}*\n" + _slack_escape(_bound(value, 1900))}
                for label, value in fact_lines(event)
            ],
        },
    ]
    if run.get("error"):
        err = run["error"]
        text = f"*Error in {_slack_escape(_where(err))}*\n" + _slack_code(
            f"{err['type']}: {err['message']}"
            + (f"\n…\n{err['traceback_tail']}" if err.get("traceback_tail") else "")
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if run.get("lab_url"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in JupyterLab"},
                        "url": run["lab_url"],
                    }
                ],
            }
        )
    summary = f"{icon} {headline(event)} (owner {event['job']['owner']}, run {run['id']})"
    return {"text": _slack_escape(summary), "blocks": blocks}


# ----- Microsoft Teams --------------------------------------------------------------------

_CARD_MARKDOWN = set("\\`*_{}[]()#+-.!<>~|")


def _card_escape(text) -> str:
    # Adaptive Card text is markdown: a title like "[x](https://…)" must stay text.
    return "".join("\\" + ch if ch in _CARD_MARKDOWN else ch for ch in str(text))


def teams_message(event: dict) -> dict:
    """A Teams webhook message (workflow or incoming webhook) with one Adaptive Card."""
    run = event["run"]
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": _card_escape(headline(event)),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": {"run.failed": "Attention", "run.succeeded": "Good"}.get(
                event["event"], "Warning"
            ),
        },
        {
            "type": "FactSet",
            "facts": [
                {"title": label, "value": _card_escape(value)} for label, value in fact_lines(event)
            ],
        },
    ]
    if run.get("error"):
        err = run["error"]
        body.append(
            {
                "type": "TextBlock",
                "text": _card_escape(f"Error in {_where(err)}: {err['type']}: {err['message']}"),
                "wrap": True,
                "color": "Attention",
            }
        )
        if err.get("traceback_tail"):
            body.append(
                {
                    "type": "TextBlock",
                    "text": _card_escape(err["traceback_tail"]),
                    "wrap": True,
                    "fontType": "Monospace",
                    "size": "Small",
                }
            )
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if run.get("lab_url"):
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open in JupyterLab", "url": run["lab_url"]}
        ]
    return {
        "type": "message",
        "summary": _bound(headline(event), 150),
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
