"""GET /smallfry/config and configuration validation."""

import pytest
import requests

from jupyterlab_smallfry.config import SmallFry, normalize_root

from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_SESSION_TOKEN


def test_config_gives_front_end_its_settings_and_nothing_secret(server, http):
    response = http.get(f"{server.url}smallfry/config")
    assert response.status_code == 200
    body = response.json()
    assert body["roots"] == [
        {"bucket": "smallfry-test", "prefix": "", "name": "smallfry-test"},
        {"bucket": "smallfry-test", "prefix": "reports/", "name": "smallfry-test \u203a reports"},
    ]
    assert body["gateway"] == {
        "s3": "smallfry/aws/s3",
        "sts": "smallfry/aws/sts",
        "glue": "smallfry/aws/glue",
    }
    assert body["page_size"] == 1000 and body["region"] == "us-east-1"
    for secret in (TEST_ACCESS_KEY, TEST_SECRET_KEY, TEST_SESSION_TOKEN):
        assert secret not in response.text


def test_config_requires_login(server):
    assert requests.get(f"{server.url}smallfry/config").status_code == 403


@pytest.mark.parametrize(
    "root, expected",
    [
        ("data-lake", {"bucket": "data-lake", "prefix": "", "name": "data-lake"}),
        (
            "data-lake/team/a",
            {"bucket": "data-lake", "prefix": "team/a/", "name": "data-lake \u203a team \u203a a"},
        ),
        (
            {"bucket": "x-y-z", "prefix": "p/", "name": "Team"},
            {"bucket": "x-y-z", "prefix": "p/", "name": "Team"},
        ),
    ],
)
def test_roots_are_normalized(root, expected):
    assert normalize_root(root) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "UPPER",
        "a",
        "../etc",
        {"bucket": "ok-bucket", "name": "a/b"},
        {"bucket": "ok-bucket", "name": ".."},
    ],
)
def test_bad_roots_are_refused_with_a_clear_message(bad):
    with pytest.raises(Exception, match="SmallFry.roots"):
        SmallFry(roots=[bad])


def test_page_size_is_bounded_by_s3():
    with pytest.raises(Exception, match="between 1 and 1000"):
        SmallFry(page_size=5000)


def test_connections_keep_their_definitions():
    warehouse = {
        "url": "postgresql+psycopg://analyst@db.internal:5432/sales",
        "password_secret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-AbC",
    }
    assert SmallFry(connections={"warehouse": warehouse}).connections == {"warehouse": warehouse}


@pytest.mark.parametrize(
    "connections, says",
    [
        # Kernels see the definitions: a password there would reach every user's kernel.
        ({"dw": {"url": "mssql+pyodbc://analyst:hunter2@sql01/sales"}}, "no password in the URL"),
        ({"dw": {"password_secret": "arn:aws:secretsmanager:x"}}, "needs a 'url'"),
        ({"two words": {"url": "sqlite://"}}, "not a plain name"),
    ],
)
def test_connections_refuse_what_would_leak_or_break(connections, says):
    with pytest.raises((ValueError, TypeError), match=says):
        SmallFry(connections=connections)
