"""What the deploy/ tests need besides pytest: the Terraform's policies as it renders them, a
small IAM policy evaluator, and checkov in a venv of its own.

The evaluator implements the part of IAM's policy language that Small Fry's documents use,
and refuses (``Unsupported``) anything else, so a new construct in a policy cannot be
evaluated wrongly in silence:

- ``Effect`` Allow/Deny; an explicit Deny wins, then an Allow, else the implicit deny;
- ``Action`` (case-insensitive) and ``Resource`` with ``*`` and ``?`` wildcards; a statement
  without ``Resource`` (a trust policy) applies to the role it is attached to;
- ``Principal`` ``AWS`` / ``Federated`` / ``Service`` (ARN or ``*``) for trust policies;
- policy variables ``${aws:PrincipalTag/...}`` (and any other context key) in resources and
  condition values: a variable the request does not have matches nothing;
- conditions ``StringEquals``, ``StringNotEquals``, ``StringLike``, ``StringNotLike``,
  ``Bool``, with the ``ForAllValues:`` / ``ForAnyValue:`` set operators; several values of
  one key are OR-ed, several keys and operators AND-ed; a missing key fails the positive
  operators, passes the negated ones and ``ForAllValues``, as IAM does.

moto cannot stand in: it checks Action and Resource but ignores conditions and policy
variables, which is exactly where a home prefix or a role tag does its work.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[3]
TERRAFORM = ROOT / "deploy" / "terraform" / "aws"
CHECKOV = "checkov==3.3.30"


class Unsupported(ValueError):
    """The policy uses something this evaluator does not implement."""


@dataclass
class Request:
    """One API call: who, what, on which resource, with which request context."""

    action: str
    resource: str
    principal: dict = field(default_factory=dict)  # {"AWS": arn} for trust policies
    context: dict = field(default_factory=dict)  # condition key -> str | list[str]


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "Bool"}


def decide(policies: list[dict], request: Request) -> str:
    """``"Allow"``, ``"Deny"`` (explicit) or ``"ImplicitDeny"`` for ``request``."""
    allowed = False
    for policy in policies:
        if policy.get("Version") != "2012-10-17":
            raise Unsupported("policy Version must be 2012-10-17 (variables need it)")
        statements = policy["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _applies(statement, request):
                continue
            if statement["Effect"] == "Deny":
                return "Deny"
            if statement["Effect"] != "Allow":
                raise Unsupported(f"Effect {statement['Effect']!r}")
            allowed = True
    return "Allow" if allowed else "ImplicitDeny"


def allowed(policies: list[dict], request: Request) -> bool:
    return decide(policies, request) == "Allow"


def _listify(value) -> list:
    return value if isinstance(value, list) else [value]


def _applies(statement: dict, request: Request) -> bool:
    unknown = set(statement) - {"Sid", "Effect", "Action", "Resource", "Principal", "Condition"}
    if unknown:
        raise Unsupported(f"statement elements {sorted(unknown)}")
    actions = _listify(statement["Action"])
    if not any(_like(a.lower(), request.action.lower()) for a in actions):
        return False
    if "Resource" in statement:
        patterns = [_substitute(r, request.context) for r in _listify(statement["Resource"])]
        if not any(p is not None and _like(p, request.resource) for p in patterns):
            return False
    if "Principal" in statement and not _principal_matches(statement["Principal"], request):
        return False
    return all(
        _condition(op, checks, request.context)
        for op, checks in statement.get("Condition", {}).items()
    )


def _principal_matches(principal, request: Request) -> bool:
    if principal == "*":
        return True
    for kind, values in principal.items():
        if kind not in ("AWS", "Federated", "Service"):
            raise Unsupported(f"Principal type {kind}")
        wanted = request.principal.get(kind)
        if wanted and any(v == "*" or v == wanted for v in _listify(values)):
            return True
    return False


def _substitute(text: str, context: dict) -> str | None:
    """``text`` with its policy variables filled in; None if one has no value."""
    missing = False

    def fill(match: re.Match) -> str:
        nonlocal missing
        value = context.get(match.group(1))
        if isinstance(value, list) or value is None:
            missing = True
            return ""
        # A value is data, never a pattern: its own * or ? must match only themselves.
        return value.replace("*", "\0star").replace("?", "\0qm")

    result = _VARIABLE.sub(fill, text)
    return None if missing else result


def _like(pattern: str, value: str) -> bool:
    """IAM's wildcard match: * any run of characters (slashes and colons too), ? one."""
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c)
        for c in re.split(r"(\*|\?)", pattern)
        if c
    )
    regex = regex.replace(re.escape("\0star"), r"\*").replace(re.escape("\0qm"), r"\?")
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _condition(operator: str, checks: dict, context: dict) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if base.endswith("IfExists") or base not in _OPERATORS:
        raise Unsupported(f"condition operator {operator}")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise Unsupported(f"condition set operator {qualifier}")
    negated = "Not" in base
    for key, expected in checks.items():
        wanted = [_substitute(v, context) for v in _listify(expected)]
        present = context.get(key)
        if qualifier == "ForAllValues":
            values = _listify(present) if present is not None else []
            ok = all(_compare(base, wanted, v) for v in values)  # empty: true, as in IAM
        elif qualifier == "ForAnyValue":
            values = _listify(present) if present is not None else []
            ok = any(_compare(base, wanted, v) for v in values)
        elif present is None:
            ok = negated
        elif isinstance(present, list):
            raise Unsupported(f"{key} has several values: use ForAllValues/ForAnyValue")
        else:
            ok = _compare(base, wanted, present)
        if not ok:
            return False
    return True


def _compare(base: str, wanted: list, value: str) -> bool:
    if base == "Bool":
        return any(w is not None and w.lower() == str(value).lower() for w in wanted)
    like = base in ("StringLike", "StringNotLike")
    hit = any(w is not None and (_like(w, value) if like else w == value) for w in wanted)
    return not hit if "Not" in base else hit


# --- Terraform, read as it renders the policies --------------------------------------------


def unquote(text: str) -> str:
    """python-hcl2 keeps the quotes of HCL strings: ``'"x"'`` -> ``'x'``."""
    return json.loads(text) if text.startswith('"') else text


def hcl(name: str) -> dict:
    with open(TERRAFORM / name) as handle:
        return hcl2.load(handle)


def hcl_locals(name: str) -> dict:
    found = {}
    for block in hcl(name).get("locals", []):
        found.update(block)
    return found


def resources(name: str) -> dict[tuple[str, str], dict]:
    """``(type, name) -> body`` of every resource (and data source, type ``data.<type>``)."""
    found = {}
    document = hcl(name)
    for kind, prefix in (("resource", ""), ("data", "data.")):
        for block in document.get(kind, []):
            for rtype, named in block.items():
                for rname, body in named.items():
                    found[(prefix + unquote(rtype), unquote(rname))] = body
    return found


_STRING = r'"(?:[^"\\]|\\.)*"'
_PAIR = re.compile(rf",\s*({_STRING}),\s*({_STRING}|[\w.]+(?:\([\w.]+\))?)\)")


def placeholder_swaps() -> list[tuple[str, str]]:
    """The ``(placeholder, HCL expression)`` pairs of the ``policies`` local's replace chain."""
    chain = hcl_locals("iam.tf")["policies"]
    start = chain.index("file(path)")
    return [(json.loads(p), e) for p, e in _PAIR.findall(chain[start:])]


def policy_files() -> dict[str, Path]:
    """``policy name -> file`` as the ``policy_files`` local names them."""
    found = hcl_locals("iam.tf")
    examples = unquote(found["examples"]).replace("${path.module}", str(TERRAFORM))
    return {
        unquote(key): Path(
            unquote(path)
            .replace("${local.examples}", examples)
            .replace("${path.module}", str(TERRAFORM))
        ).resolve()
        for key, path in found["policy_files"].items()
    }


def render_expression(expression: str, values: dict[str, str]) -> str:
    """The value of one replacement expression: an HCL string with ``${name}`` parts, or one
    of the few bare expressions the chain uses. Unknown names raise, so a new placeholder
    cannot slip past the tests."""
    if expression.startswith('"'):
        text = json.loads(expression)

        def fill(match: re.Match) -> str:
            if match.group(1) not in values:
                raise KeyError(f"no test value for ${{{match.group(1)}}}")
            return values[match.group(1)]

        return _VARIABLE.sub(fill, text)
    if expression.startswith("jsonencode(") and expression.endswith(")"):
        return json.dumps(values[expression[len("jsonencode(") : -1]])
    return values[expression]


def rendered_policies(values: dict[str, str]) -> dict[str, dict]:
    """Every policy of ``policy_files`` after the Terraform's placeholder swaps, with the
    deployment values in ``values`` (keys as the HCL names them: ``local.account_id``, ...)."""
    swaps = [(p, render_expression(e, values)) for p, e in placeholder_swaps()]
    out = {}
    for name, path in policy_files().items():
        text = path.read_text()
        for placeholder, value in swaps:
            text = text.replace(placeholder, value)
        out[name] = json.loads(text)
    return out


def render_template(path: Path, values: dict[str, str]) -> dict:
    """A ``.tftpl`` file that uses plain ``${name}`` interpolations only."""
    text = path.read_text()
    names = set(_VARIABLE.findall(text))
    if not names <= set(values):
        raise KeyError(f"no test value for {sorted(names - set(values))}")
    return json.loads(_VARIABLE.sub(lambda m: values[m.group(1)], text))


# --- checkov, in its own venv ----------------------------------------------------------------


def checkov_venv() -> Path:
    """checkov's own venv (it pins boto3/botocore far below ours), built once per version in
    ``$SMALLFRY_CACHE`` or ``~/.cache/smallfry``; returns the ``checkov`` executable."""
    base = Path(os.environ.get("SMALLFRY_CACHE") or Path.home() / ".cache" / "smallfry")
    venv = (
        base / f"checkov-venv-{CHECKOV.split('==')[1]}-py{sys.version_info[0]}{sys.version_info[1]}"
    )
    done = venv / ".smallfry-complete"
    executable = venv / "bin" / "checkov"
    if done.exists():
        return executable
    base.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once build it once
        if done.exists():
            return executable
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)  # a half-built one from an interrupted run
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        env.pop("PIP_CONSTRAINT", None)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--isolated",
                CHECKOV,
            ],
            check=True,
            env=env,
        )
        done.write_text(f"built in {time.monotonic() - started:.0f}s\n")
    return executable
