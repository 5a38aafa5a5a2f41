"""``sf.connect``: a named connection to a real PostgreSQL, its password from moto's Secrets
Manager, read with the kernel's keys; and the password never shows.

PostgreSQL is Debian's, run as a private cluster (:class:`PostgresCluster`), password
authentication over TCP, so a wrong or missing password really fails.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile

import pandas as pd
import pytest
import sqlalchemy

import smallfry as sf

from ..platform.postgres import PostgresCluster
from .lake_support import kernel_environment
from .processes import free_port


@pytest.fixture(scope="module")
def postgres():
    with PostgresCluster(tempfile.mkdtemp(prefix="sf-pg-"), free_port(), durable=False) as pg:
        url = sqlalchemy.engine.make_url(pg.create_database("sales", role="analyst"))
        # The test's own set-up, with the password in hand (users never have it).
        setup = sqlalchemy.create_engine(url.set(drivername="postgresql+psycopg"))
        with setup.begin() as db:
            db.exec_driver_sql("CREATE TABLE orders (id int, city text, amount numeric(8,2))")
            db.exec_driver_sql("INSERT INTO orders VALUES (1, 'Lyon', 12.5), (2, 'Oslo', 7.25)")
        setup.dispose()
        yield pg, url.password


@pytest.fixture(scope="module")
def connections(moto_url, postgres):
    pg, password = postgres
    with kernel_environment(moto_url):
        from jupyterlab_smallfry import lake

        secrets = lake.aws().client("secretsmanager")
        plain = secrets.create_secret(Name="warehouse-password", SecretString=password)["ARN"]
        rds = secrets.create_secret(
            Name="warehouse-rds",
            SecretString=json.dumps({"username": "analyst", "password": password}),
        )["ARN"]
        defined = {
            "warehouse": {
                "url": f"postgresql+psycopg://analyst@127.0.0.1:{pg.port}/sales",
                "password_secret": plain,
            },
            "warehouse_rds": {
                "url": f"postgresql+psycopg://127.0.0.1:{pg.port}/sales",
                "password_secret": rds,
            },
            "sqlserver": {
                "url": "mssql+pyodbc://analyst@sql01/sales?driver=ODBC+Driver+18+for+SQL+Server",
                "password_secret": plain,
            },
            "snow": {"url": "snowflake://analyst@acme/sales"},
            "gone": {
                "url": f"postgresql+psycopg://analyst@127.0.0.1:{pg.port}/sales",
                "password_secret": plain.replace("warehouse-password", "deleted"),
            },
        }
        os.environ["SMALLFRY_CONNECTIONS"] = json.dumps(defined)
        try:
            yield password
        finally:
            del os.environ["SMALLFRY_CONNECTIONS"]


def test_connect_reads_the_table_with_the_secret_password(connections):
    engine = sf.connect("warehouse")
    df = pd.read_sql("SELECT city, amount FROM orders ORDER BY id", engine)
    assert df["city"].tolist() == ["Lyon", "Oslo"] and df["amount"].tolist() == [12.5, 7.25]


def test_an_rds_style_json_secret_gives_user_and_password(connections):
    engine = sf.connect("warehouse_rds")
    assert engine.url.username == "analyst"
    with engine.connect() as db:
        assert db.exec_driver_sql("SELECT current_user").scalar() == "analyst"


def test_the_password_is_not_in_the_engine_its_url_or_the_logs(connections, caplog):
    password = connections
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    engine = sf.connect("warehouse", echo="debug")
    with engine.connect() as db:
        assert db.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 2
    shown = [repr(engine), str(engine.url), repr(engine.url), engine.url.render_as_string(False)]
    assert engine.url.password is None
    assert not [text for text in shown if password in text]
    assert "SELECT count(*) FROM orders" in caplog.text  # the engine did log
    assert password not in caplog.text
    assert not [v for v in os.environ.values() if password in v]


def test_without_the_password_postgres_refuses(connections):
    """The control: the password really comes from the secret (none in the URL)."""
    url = json.loads(os.environ["SMALLFRY_CONNECTIONS"])["warehouse"]["url"]
    with pytest.raises(sqlalchemy.exc.OperationalError, match="password"):
        sqlalchemy.create_engine(url).connect()


def test_an_unknown_connection_lists_the_known_ones(connections):
    with pytest.raises(
        sf.UnknownConnection,
        match=r"No connection named 'warehose' \(known: gone, snow, sqlserver, warehouse, "
        r"warehouse_rds\)\. Your admin defines them in c\.SmallFry\.connections",
    ):
        sf.connect("warehose")


def test_a_missing_driver_names_the_pip_package(connections, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyodbc", None)  # as on a machine without it
    with pytest.raises(ImportError, match=r"'sqlserver' \(mssql\+pyodbc\).* pip install 'pyodbc'"):
        sf.connect("sqlserver")
    with pytest.raises(sf.MissingPackage, match=r"pip install 'snowflake-sqlalchemy'"):
        sf.connect("snow")


def test_a_missing_secret_is_named(connections):
    with pytest.raises(sf.LakeError, match=r"'gone': its password secret arn:.*deleted.* does not"):
        sf.connect("gone")


def test_no_connections_defined(connections, monkeypatch):
    monkeypatch.delenv("SMALLFRY_CONNECTIONS")
    with pytest.raises(sf.UnknownConnection, match=r"known: none are defined"):
        sf.connect("warehouse")
