"""Names that AWS and Airflow derive from a Hub user name: valid *and* injective.

AWS and Airflow allow only a few characters in a RoleSessionName, a SourceIdentity, a session
tag value or a dag_id. Replacing the others with ``-`` makes ``o'neil`` and ``o-neil`` the
same person to IAM (same ``${aws:PrincipalTag/jupyterhub_user}``, so the same home prefix).
Every name here is instead an escape code: characters outside a safe set become
``<esc><two hex digits>`` per UTF-8 byte, and the escape character itself is escaped, so two
different users never get the same name. Names too long for the target keep their start plus
a long hash and are exactly the maximum length, which no untruncated name reaches, so the two
kinds never meet either.

No Jupyter or Airflow imports: the Hub service, the user's server, the DAG factory and the
runner all use these functions.
"""

from __future__ import annotations

import hashlib


def escape(text: str, safe: str, esc: str) -> str:
    """``text`` with every character outside ``safe`` (and ``esc`` itself) as ``esc``+hex bytes."""
    out = []
    for ch in text:
        if ch in safe and ch != esc:
            out.append(ch)
        else:
            out.extend(f"{esc}{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out)


def fit(encoded: str, original: str, limit: int) -> str:
    """``encoded`` if shorter than ``limit``; else its start and a hash, exactly ``limit`` long."""
    if len(encoded) < limit:
        return encoded
    digest = hashlib.sha256(original.encode("utf-8")).hexdigest()[:24]
    return f"{encoded[: limit - len(digest) - 1]}-{digest}"


#: The session tag that carries the Hub user on every session Small Fry makes for them (the
#: Hub service's for their server, the runner's for their jobs); IAM policies use it.
USER_TAG_KEY = "jupyterhub_user"

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

#: STS RoleSessionName / SourceIdentity: 2-64 of ``[A-Za-z0-9_+=,.@-]``; ``=`` escapes.
_SESSION_SAFE = _ALNUM + "_+,.@-"
#: Session tag values may hold more, but not ``/`` or spaces: the value becomes an S3 prefix.
_TAG_SAFE = _ALNUM + "_.:+-@"
#: dag_ids and Airflow role names: ``[A-Za-z0-9_.-]``; ``_`` escapes, so no ``__`` ever appears.
_DAG_SAFE = _ALNUM + ".-"


def role_session_name(user: str) -> str:
    """A valid, injective STS RoleSessionName (also used as SourceIdentity) for ``user``."""
    name = fit(escape(user, _SESSION_SAFE, "="), user, 64)
    # A lone trailing '=' can never come from an escape, so padding stays unambiguous.
    return name if len(name) >= 2 else (name + "==")[:2]


def tag_value(text: str) -> str:
    """A valid, injective session tag value (at most 256 characters) for ``text``."""
    return fit(escape(text, _TAG_SAFE, "="), text, 256)


def owner_slug(owner: str, limit: int = 150) -> str:
    """An injective stand-in for ``owner`` in dag_ids and Airflow role names.

    It never contains ``__`` and never ends in ``_``, so ``smallfry__<owner>__<job>`` splits
    in exactly one way: owner ``u`` with job ``v__w`` and owner ``u__v`` with job ``w`` differ.
    """
    return fit(escape(owner, _DAG_SAFE, "_"), owner, limit)
