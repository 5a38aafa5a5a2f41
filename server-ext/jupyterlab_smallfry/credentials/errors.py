"""Every way getting AWS credentials can fail, as a stable code, a widget state and a fix.

The status widget shows ``message`` (what happened, in plain words) and ``hint`` (what to do
and who can do it). Neither ever contains a key, a token or an upstream error body: STS and
Hub responses are reduced to their error code before they get here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    state: str  # the widget state: error, needs-login, not-configured
    message: str
    hint: str
    retryable: bool = False


#: code -> what the widget shows. Codes are part of the REST API; never rename one.
CATALOGUE: dict[str, Problem] = {
    "no-credentials": Problem(
        "not-configured",
        "No AWS credentials were found on the server.",
        "Configure the server's environment, ~/.aws profile or instance role, or ask your admin "
        "to set c.SmallFry.credentials_mode to 'web-identity' or 'broker'.",
    ),
    "lookup-failed": Problem(
        "error",
        "Looking up AWS credentials on the server failed.",
        "Check the server's AWS configuration; the server log names the error type.",
        retryable=True,
    ),
    "not-under-hub": Problem(
        "not-configured",
        "This server is not running under JupyterHub, so there is no Hub identity to exchange.",
        "Use credentials_mode 'ambient' outside JupyterHub.",
    ),
    "no-role": Problem(
        "not-configured",
        "No AWS role is configured for you.",
        "Ask your admin to set c.SmallFry.role_arn, or to map one of your groups to a role in "
        "c.SmallFry.role_map.",
    ),
    "role-not-allowed": Problem(
        "error",
        "You asked for a role that you are not allowed to use.",
        "Pick one of the roles listed in the credentials panel.",
    ),
    "no-broker": Problem(
        "not-configured",
        "The credential broker's address is not configured.",
        "Ask your admin to set c.SmallFry.broker_url in the single-user server's config "
        "(see the broker example jupyterhub_config.py).",
    ),
    "missing-scope": Problem(
        "error",
        "The Hub does not let this server read your login token.",
        "Ask your admin to grant 'admin:auth_state!user' to both the 'user' and the 'server' "
        "roles in jupyterhub_config.py (c.JupyterHub.load_roles).",
    ),
    "no-auth-state": Problem(
        "error",
        "The Hub keeps no login tokens for you (auth_state is empty).",
        "Ask your admin to set c.Authenticator.enable_auth_state = True and the "
        "JUPYTERHUB_CRYPT_KEY environment variable, then log out and log in again.",
    ),
    "no-id-token": Problem(
        "error",
        "Your login did not produce an OpenID Connect id_token.",
        "Ask your admin to include 'openid' in c.GenericOAuthenticator.scope (or your "
        "authenticator's scope), then log in again.",
    ),
    "hub-unreachable": Problem(
        "error",
        "The JupyterHub API could not be reached.",
        "Try again in a minute; if it persists, the Hub may be down.",
        retryable=True,
    ),
    "hub-refused": Problem(
        "needs-login",
        "The Hub no longer accepts this server's token.",
        "Log in to JupyterHub again (your server may need a restart).",
    ),
    "ExpiredToken": Problem(
        "needs-login",
        "Your login token has expired and the Hub could not renew it.",
        "Log in to JupyterHub again. Admins: install Small Fry's refresh_user_hook so the Hub "
        "renews id_tokens before they expire.",
    ),
    "IDPRejectedClaim": Problem(
        "needs-login",
        "Your identity provider rejected the login token.",
        "Log in to JupyterHub again.",
    ),
    "InvalidIdentityToken": Problem(
        "error",
        "AWS rejected your login token: its issuer or audience does not match the identity "
        "provider registered in IAM.",
        "Ask your admin to check that the IAM OIDC provider's URL equals the token issuer and "
        "that its client IDs include the token audience (both shown below).",
    ),
    "IDPCommunicationError": Problem(
        "error",
        "AWS could not reach your identity provider to check the login token.",
        "Usually temporary; Small Fry retries with backoff. If it persists, the identity "
        "provider's keys (JWKS) are not reachable from AWS.",
        retryable=True,
    ),
    "Throttling": Problem(
        "error",
        "AWS STS is throttling requests.",
        "Small Fry retries with backoff; try again in a minute.",
        retryable=True,
    ),
    "AccessDenied": Problem(
        "error",
        "AWS refused to let you assume the role.",
        "Ask your admin to check the role's trust policy: it must trust the identity provider "
        "(web-identity) or the broker's principal (broker), with sts:TagSession and "
        "sts:SetSourceIdentity where used.",
    ),
    "RegionDisabled": Problem(
        "error",
        "AWS STS is disabled in this region.",
        "Ask your admin to activate STS in the region or set c.SmallFry.sts_endpoint_url.",
    ),
    "MalformedPolicy": Problem(
        "error",
        "AWS rejected the session policy or tags.",
        "An admin problem: check the role_map, session tags and session policy sizes.",
    ),
    "InvalidDuration": Problem(
        "error",
        "The requested session is longer than the role allows.",
        "Ask your admin to lower c.SmallFry.session_duration or raise the role's "
        "MaxSessionDuration.",
    ),
    "sts-unreachable": Problem(
        "error",
        "AWS STS could not be reached.",
        "Check c.SmallFry.sts_endpoint_url and the server's network; Small Fry retries.",
        retryable=True,
    ),
    "sts-failed": Problem(
        "error",
        "AWS STS returned an unexpected error.",
        "The server log has the STS error code; try again or ask your admin.",
        retryable=True,
    ),
    "broker-unreachable": Problem(
        "error",
        "The Small Fry credential broker on the Hub could not be reached.",
        "Try again in a minute; admins: check that the 'smallfry-broker' service is running "
        "and that c.SmallFry.broker_url points at it.",
        retryable=True,
    ),
    "broker-refused": Problem(
        "error",
        "The credential broker refused this server's token.",
        "Ask your admin to grant 'access:services!service=smallfry-broker' to the 'server' role.",
    ),
}

_STS_CODES = {
    "ExpiredTokenException": "ExpiredToken",
    "ExpiredToken": "ExpiredToken",
    "InvalidIdentityToken": "InvalidIdentityToken",
    "InvalidIdentityTokenException": "InvalidIdentityToken",
    "IDPCommunicationError": "IDPCommunicationError",
    "IDPCommunicationErrorException": "IDPCommunicationError",
    "IDPRejectedClaim": "IDPRejectedClaim",
    "IDPRejectedClaimException": "IDPRejectedClaim",
    "Throttling": "Throttling",
    "ThrottlingException": "Throttling",
    "RequestLimitExceeded": "Throttling",
    "TooManyRequestsException": "Throttling",
    "AccessDenied": "AccessDenied",
    "AccessDeniedException": "AccessDenied",
    "RegionDisabledException": "RegionDisabled",
    "MalformedPolicyDocument": "MalformedPolicy",
    "MalformedPolicyDocumentException": "MalformedPolicy",
    "PackedPolicyTooLarge": "MalformedPolicy",
    "PackedPolicyTooLargeException": "MalformedPolicy",
    "ValidationError": "InvalidDuration",
}


#: What the widget says when a refresh failed but the cached keys still work: the failure is
#: not hidden, and the user learns that nothing stops working before ``until``.
STILL_VALID = (
    "Your current AWS keys keep working until {until} (about {minutes} min from now), and "
    "Small Fry keeps using them; renewing them failed: {message}"
)


def still_valid_message(message: str, until: str, minutes: int) -> str:
    """``message`` of a failed refresh, told as "the current keys keep working until ..."."""
    return STILL_VALID.format(until=until, minutes=max(minutes, 0), message=message)


def code_for_sts_error(aws_code: str) -> str:
    """Our stable code for an STS error code (unknown codes become ``sts-failed``)."""
    return _STS_CODES.get(aws_code, "sts-failed")


def problem(code: str) -> Problem:
    return CATALOGUE.get(code, CATALOGUE["sts-failed"])
