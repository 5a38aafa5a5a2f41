"""``connect``: a SQLAlchemy engine for a database connection the admin named.

The admin defines connections in ``c.SmallFry.connections`` (a URL without password, plus
the ARN of a Secrets Manager secret holding it); the server hands kernels the definitions,
never a secret, as JSON in ``$SMALLFRY_CONNECTIONS``. The password is fetched with the user's
own AWS keys, so the secret's resource policy or the user's role decides who may connect. It
lives only in this process's memory: it is not in the engine's URL (so not in its repr, in
``str(engine.url)`` or in SQLAlchemy's logs) but handed to the driver at each new connection.
"""

from __future__ import annotations

import json
import os

from botocore.exceptions import BotoCoreError, ClientError

from .. import kernel_env
from . import frames
from .errors import LakeError, MissingPackage, UnknownConnection
from .session import aws

#: The kernel environment variable with the admin's connection definitions (no secrets).
ENV = kernel_env.CONNECTIONS

#: SQLAlchemy driver (or dialect, when the dialect itself is a plugin) -> pip requirement.
REQUIREMENTS = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "asyncpg": "asyncpg",
    "pg8000": "pg8000",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "mysqldb": "mysqlclient",
    "pymysql": "PyMySQL",
    "mysqlconnector": "mysql-connector-python",
    "oracledb": "oracledb",
    "cx_oracle": "cx_Oracle",
    "snowflake": "snowflake-sqlalchemy",
    "redshift": "sqlalchemy-redshift",
    "redshift_connector": "redshift_connector",
    "awsathena": "pyathena[sqlalchemy]",
    "trino": "trino[sqlalchemy]",
    "databricks": "databricks-sqlalchemy",
    "bigquery": "sqlalchemy-bigquery",
    "duckdb": "duckdb-engine",
    # A URL without "+driver" uses SQLAlchemy's default driver for the database.
    "postgresql": "psycopg2-binary",
    "mssql": "pyodbc",
    "mysql": "mysqlclient",
    "oracle": "oracledb",
}


def definitions(environ=os.environ) -> dict[str, dict]:
    """The connections this kernel knows: name -> {"url", "password_secret"?, …}."""
    raw = environ.get(ENV, "").strip()
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except json.JSONDecodeError as err:
        raise LakeError(f"${ENV} is not valid JSON ({err}); ask your admin") from None
    if not isinstance(found, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("url"), str) for v in found.values()
    ):
        raise LakeError(f"${ENV} must map each name to an object with a 'url'; ask your admin")
    return found


def connect(name: str, **engine_options):
    """A SQLAlchemy engine for the connection ``name`` (``c.SmallFry.connections``).

    ``engine = sf.connect("warehouse")`` then ``pd.read_sql("SELECT …", engine)``. Its password
    comes from AWS Secrets Manager with your own keys (a plain secret string, or a JSON secret
    with ``password`` and optionally ``username``, as RDS writes them) and is never written
    anywhere. Keywords go to ``sqlalchemy.create_engine``. A rotated password: call again.
    """
    known = definitions()
    if name not in known:
        listing = ", ".join(sorted(known)) or "none are defined"
        raise UnknownConnection(
            f"No connection named {name!r} (known: {listing}). Your admin defines them in "
            "c.SmallFry.connections."
        )
    frames.need("sqlalchemy", "smallfry.connect", "sqlalchemy>=2")
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    spec = known[name]
    try:
        url = make_url(spec["url"])
    except ArgumentError as err:
        raise LakeError(
            f"connection {name!r}: its URL is not valid ({err}); ask your admin"
        ) from None
    url = url.set(password=None)  # only ever from the secret
    password = None
    if spec.get("password_secret"):
        password, username = _secret(name, spec["password_secret"])
        if username and not url.username:
            url = url.set(username=username)
    options = {**spec.get("engine_options", {}), **engine_options}
    try:
        engine = create_engine(url, **options)
    except (NoSuchModuleError, ImportError):
        # From the URL's text: asking SQLAlchemy would load the missing dialect again.
        backend, _, driver = url.drivername.partition("+")
        requirement = REQUIREMENTS.get(driver) or REQUIREMENTS.get(backend, driver or backend)
        raise MissingPackage(f"The connection {name!r} ({url.drivername})", requirement) from None
    if password is not None:

        @event.listens_for(engine, "do_connect")
        def _give_password(dialect, record, cargs, cparams):
            cparams["password"] = password

    return engine


def _secret(name: str, arn: str) -> tuple[str, str]:
    """(password, username or "") from the secret ``arn``, read with the user's keys."""
    access = aws()
    try:
        value = access.client("secretsmanager").get_secret_value(SecretId=arn)
    except ClientError as err:
        access.check(err, "secretsmanager:GetSecretValue", arn)
        code = err.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise LakeError(
                f"connection {name!r}: its password secret {arn} does not exist; ask your admin"
            ) from None
        raise LakeError(
            f"connection {name!r}: reading its password secret failed ({code})"
        ) from None
    except BotoCoreError as err:
        raise LakeError(
            f"connection {name!r}: Secrets Manager could not be reached: {err}"
        ) from None
    text = value.get("SecretString")
    if text is None:
        raise LakeError(f"connection {name!r}: the secret {arn} holds binary data, not a password")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return text, ""
    if isinstance(parsed, dict) and isinstance(parsed.get("password"), str):
        return parsed["password"], str(parsed.get("username") or "")
    if isinstance(parsed, dict):
        raise LakeError(f"connection {name!r}: the JSON secret {arn} has no 'password' field")
    return text, ""
