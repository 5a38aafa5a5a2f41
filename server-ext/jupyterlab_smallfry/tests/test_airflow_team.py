"""The team platform's Airflow half, for real: a private PostgreSQL, Airflow 3 with the
LocalExecutor and the FAB auth manager, and a real OIDC provider people log in through.

Alice and bob each have a job spec; the Hub service's machine account creates their owner roles
first (through :class:`~jupyterlab_smallfry.platform.airflow_api.AirflowClient`). Then, logged in
through the IdP like a browser: alice sees and triggers only her job, bob can neither see nor
trigger hers, an admin (by IdP group) sees both, the machine account triggers any, and the real
scheduler runs a task to success.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
import requests

from ..airflow.naming import dag_id_for, owner_role
from ..platform.airflow_api import AirflowClient, AirflowForbidden, AirflowNotFound
from ..platform.airflow_stack import AirflowSettings, AirflowStack
from ..platform.postgres import PostgresCluster
from .airflow_env import ensure_venv
from .airflow_sso import bearer, sso_login
from .oidc_provider import oidc_provider
from .processes import free_port

pytestmark = pytest.mark.timeout(600)

FIXTURE = (
    Path(__file__).resolve().parents[1] / "jobs" / "fixtures" / "valid" / "manual-minimal.json"
)
ADMINS = "airflow-admins"
ALICE_DAG = dag_id_for("alice", "report")
BOB_DAG = dag_id_for("bob", "report")
PROBE_DAG = "platform_probe"
# A DAG outside Small Fry with no access_control: only global rights (admin, service) reach it.
PROBE = f'''\
"""Proves the scheduler runs tasks (an airflow dag with one bash task)."""
import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

with DAG("{PROBE_DAG}", schedule=None, start_date=pendulum.datetime(2026, 1, 1),
         is_paused_upon_creation=False, tags=["probe"]):
    BashOperator(task_id="true", bash_command="true")
'''


def run(coro):
    return asyncio.run(coro)


def spec_for(owner: str) -> str:
    spec = json.loads(FIXTURE.read_text())
    spec.update(
        id="report",
        owner=owner,
        title=f"{owner}'s report",
        # Paused: a trigger queues a run that never starts, so no notebook (nor S3) is needed.
        paused=True,
        output={"uri_template": "s3://smallfry-team/runs/{owner}/{job_id}/{run_id}/"},
    )
    return json.dumps(spec)


@pytest.fixture(scope="module")
def team():
    timings = {}
    started = time.monotonic()
    python = ensure_venv()
    with oidc_provider() as idp:
        # Each folder its own mkdtemp: PostgreSQL runs as 'postgres' and must reach its folder.
        pg = PostgresCluster(tempfile.mkdtemp(prefix="sf-pg-"), free_port(), durable=False)
        root = Path(tempfile.mkdtemp(prefix="sf-airflow-team-"))
        stack = None
        try:
            database_url = pg.start().create_database("airflow")
            (root / "home" / "dags").mkdir(parents=True)
            (root / "home" / "dags" / "probe.py").write_text(PROBE)
            stack = AirflowStack(
                AirflowSettings(
                    python=python,
                    home=root / "home",
                    database_url=database_url,
                    oidc_issuer=idp.issuer,
                    client_id="airflow",
                    client_secret="airflow-client-secret",
                    admin_group=ADMINS,
                    jobs_dir=root / "jobs",
                    port=free_port(),
                    parse_interval=3,
                )
            )
            stack.start()
            timings["bring-up"] = round(time.monotonic() - started, 1)
            service = stack.service_account

            async def roles():
                async with AirflowClient(stack.url, service.username, service.password) as hub:
                    first = [await hub.ensure_role(owner_role(o)) for o in ("alice", "bob")]
                    again = await hub.ensure_role(owner_role("alice"))
                    return first, again

            created, again = run(roles())
            # The roles exist before any spec that names them is parsed.
            for owner in ("alice", "bob"):
                (root / "jobs" / owner).mkdir(parents=True, exist_ok=True)
                (root / "jobs" / owner / "report.json").write_text(spec_for(owner))

            async def wait_for_dags():
                deadline = time.monotonic() + 120
                async with AirflowClient(stack.url, service.username, service.password) as hub:
                    while time.monotonic() < deadline:
                        ids = {d["dag_id"] for d in await hub.dags()}
                        if {ALICE_DAG, BOB_DAG, PROBE_DAG} <= ids:
                            return ids
                        await asyncio.sleep(1)
                raise AssertionError(
                    f"DAGs never showed; dag-processor:\n{stack.log('dag-processor')}"
                )

            run(wait_for_dags())
            timings["specs parsed"] = round(time.monotonic() - started, 1)
            yield {
                "stack": stack,
                "idp": idp,
                "roles_created": created,
                "role_again": again,
                "timings": timings,
            }
        finally:
            if stack is not None:
                stack.stop()
            pg.stop()
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(pg.folder, ignore_errors=True)
            print(f"\nAirflow team platform timings (s): {timings}")


@pytest.fixture(scope="module")
def users(team):
    stack, idp = team["stack"], team["idp"]
    return {
        "alice": sso_login(stack, idp, "alice"),
        "bob": sso_login(stack, idp, "bob"),
        "carol": sso_login(stack, idp, "carol", groups=[ADMINS, "analysts"]),
    }


def api(team, who, method, path, **kwargs) -> requests.Response:
    return requests.request(
        method, team["stack"].url + path, headers=bearer(who), timeout=30, **kwargs
    )


def test_the_machine_account_creates_owner_roles_once(team):
    assert team["roles_created"] == [True, True]
    assert team["role_again"] is False


def test_alice_sees_only_her_own_job(team, users):
    listed = api(team, users["alice"], "GET", "/api/v2/dags")
    assert listed.status_code == 200, listed.text
    assert [d["dag_id"] for d in listed.json()["dags"]] == [ALICE_DAG]
    assert api(team, users["alice"], "GET", f"/api/v2/dags/{ALICE_DAG}").status_code == 200
    # Not bob's, and not the probe DAG that names no role at all.
    for other in (BOB_DAG, PROBE_DAG):
        assert api(team, users["alice"], "GET", f"/api/v2/dags/{other}").status_code in (403, 404)


def test_bob_can_neither_see_nor_trigger_alices_job(team, users):
    detail = api(team, users["bob"], "GET", f"/api/v2/dags/{ALICE_DAG}")
    assert detail.status_code in (403, 404), detail.text
    trigger = api(
        team, users["bob"], "POST", f"/api/v2/dags/{ALICE_DAG}/dagRuns", json={"logical_date": None}
    )
    assert trigger.status_code in (403, 404), trigger.text
    runs = api(team, users["bob"], "GET", f"/api/v2/dags/{ALICE_DAG}/dagRuns")
    assert runs.status_code in (403, 404), runs.text
    listed = api(team, users["bob"], "GET", "/api/v2/dags").json()["dags"]
    assert [d["dag_id"] for d in listed] == [BOB_DAG]


def test_alice_triggers_her_own_job(team, users):
    reply = api(
        team,
        users["alice"],
        "POST",
        f"/api/v2/dags/{ALICE_DAG}/dagRuns",
        json={"logical_date": None, "note": "by hand"},
    )
    assert reply.status_code == 200, reply.text
    run_id = reply.json()["dag_run_id"]
    runs = api(team, users["alice"], "GET", f"/api/v2/dags/{ALICE_DAG}/dagRuns").json()
    assert run_id in [r["dag_run_id"] for r in runs["dag_runs"]]


def test_an_admin_by_idp_group_sees_every_job(team, users):
    listed = api(team, users["carol"], "GET", "/api/v2/dags")
    assert listed.status_code == 200, listed.text
    assert {ALICE_DAG, BOB_DAG, PROBE_DAG} <= {d["dag_id"] for d in listed.json()["dags"]}


def test_the_machine_account_triggers_any_job(team):
    service = team["stack"].service_account

    async def go():
        async with AirflowClient(team["stack"].url, service.username, service.password) as hub:
            run_id = await hub.trigger(BOB_DAG, note="from the Hub service")
            runs = await hub.dag_runs(BOB_DAG)
            with pytest.raises(AirflowNotFound):
                await hub.dag("smallfry__nobody__nothing")
            return run_id, runs, await hub.dag(ALICE_DAG)

    run_id, runs, alice_dag = run(go())
    assert run_id in [r["dag_run_id"] for r in runs]
    assert alice_dag["dag_id"] == ALICE_DAG


def test_a_user_token_is_refused_on_other_owners_dags_by_the_client(team, users):
    async def go():
        token = users["bob"].cookies["_token"]
        async with AirflowClient(team["stack"].url, token=token) as bob:
            with pytest.raises((AirflowForbidden, AirflowNotFound)):
                await bob.trigger(ALICE_DAG)
            # A DAG that does not exist looks like one that is not yours: no probing for names.
            with pytest.raises(AirflowForbidden):
                await bob.dag("smallfry__nobody__nothing")
            return await bob.dag(BOB_DAG)

    assert run(go())["dag_id"] == BOB_DAG


def test_sso_users_cannot_get_a_token_with_a_password(team, users):
    for password in ("", "alice", "anything"):
        reply = requests.post(
            team["stack"].url + "/auth/token",
            json={"username": "alice", "password": password},
            timeout=30,
        )
        assert reply.status_code in (400, 401), reply.text


def test_the_scheduler_runs_a_task_to_success(team):
    stack = team["stack"]

    async def go():
        async with AirflowClient(
            stack.url, stack.service_account.username, stack.service_account.password
        ) as hub:
            run_id = await hub.trigger(PROBE_DAG)
            deadline = time.monotonic() + 150
            state = None
            while time.monotonic() < deadline:
                state = (await hub.dag_run(PROBE_DAG, run_id))["state"]
                if state in ("success", "failed"):
                    break
                await asyncio.sleep(1)
            return state

    started = time.monotonic()
    state = run(go())
    team["timings"]["probe run"] = round(time.monotonic() - started, 1)
    assert state == "success", stack.log("scheduler")


def test_an_sso_login_cannot_take_over_the_machine_account(team):
    stack, idp = team["stack"], team["idp"]
    name = stack.service_account.username
    browser = sso_login(stack, idp, name)
    assert "_token" not in browser.cookies

    # The account still works with its password and keeps its role.
    async def go():
        async with AirflowClient(stack.url, name, stack.service_account.password) as hub:
            return await hub.dag(PROBE_DAG)

    assert run(go())["dag_id"] == PROBE_DAG


def test_a_restart_keeps_jobs_roles_and_the_machine_account(team, users):
    """Last: stop everything but PostgreSQL and start again on the same folders."""
    stack = team["stack"]
    before = stack.service_account
    stack.stop()
    started = time.monotonic()
    stack.start()
    team["timings"]["restart"] = round(time.monotonic() - started, 1)
    assert stack.service_account == before

    async def go():
        async with AirflowClient(stack.url, before.username, before.password) as hub:
            return {d["dag_id"] for d in await hub.dags()}, await hub.ensure_role(
                owner_role("alice")
            )

    ids, created = run(go())
    assert {ALICE_DAG, BOB_DAG, PROBE_DAG} <= ids
    assert created is False
    alice = sso_login(stack, team["idp"], "alice")
    assert "_token" in alice.cookies, stack.log("api-server", 6000)
    listed = api(team, alice, "GET", "/api/v2/dags").json()["dags"]
    assert [d["dag_id"] for d in listed] == [ALICE_DAG]
