"""The rules of chained jobs (``after``): what the form, the factory and Run now refuse."""

from __future__ import annotations

from jupyterlab_smallfry.airflow.naming import dag_id_for
from jupyterlab_smallfry.jobs.chain import asset_name, check_after, dependents


def _spec(job_id: str, after=(), cron: str | None = None) -> dict:
    spec = {"id": job_id, "owner": "ana", "schedule": {"type": "manual"}}
    if cron:
        spec["schedule"] = {"type": "cron", "cron": cron, "timezone": "UTC"}
    if after:
        spec["after"] = list(after)
    return spec


def _owner(*specs: dict) -> dict[str, dict]:
    return {s["id"]: s for s in specs}


def _messages(errors) -> list[str]:
    assert all(e.field == "after" for e in errors)
    return [e.message for e in errors]


def test_a_job_without_after_and_a_valid_chain_pass():
    extract = _spec("extract", cron="0 6 * * *")
    report = _spec("report", after=["extract"])
    assert check_after(extract, _owner(extract)) == []
    # On create the new job is not yet among the owner's specs.
    assert check_after(report, _owner(extract)) == []
    assert check_after(report, _owner(extract, report)) == []


def test_a_missing_upstream_is_named():
    report = _spec("report", after=["extract", "clean"])
    msgs = _messages(check_after(report, _owner(_spec("clean"), report)))
    assert len(msgs) == 1
    assert "'extract'" in msgs[0] and "'clean'" not in msgs[0]


def test_a_job_cannot_run_after_itself():
    report = _spec("report", after=["report"])
    msgs = _messages(check_after(report, _owner(report)))
    assert msgs == ["a job cannot run after itself ('report')"]


def test_a_two_job_cycle_is_named_in_run_order():
    extract = _spec("extract")
    report = _spec("report", after=["extract"])
    # Editing extract to run after report closes the loop.
    edited = _spec("extract", after=["report"])
    msgs = _messages(check_after(edited, _owner(extract, report)))
    assert len(msgs) == 1
    assert msgs[0].endswith("extract → report → extract")


def test_a_longer_cycle_names_the_smallest_loop_in_run_order():
    # a → b → c → a (b runs after a, c after b, a after c), and an unrelated d after a.
    a = _spec("a", after=["c"])
    b = _spec("b", after=["a"])
    c = _spec("c", after=["b"])
    d = _spec("d", after=["a"])
    msgs = _messages(check_after(a, _owner(a, b, c, d)))
    assert msgs[0].endswith("a → b → c → a")
    msgs = _messages(check_after(b, _owner(a, b, c, d)))
    assert msgs[0].endswith("b → c → a → b")


def test_a_diamond_is_not_a_cycle():
    a = _spec("a")
    b = _spec("b", after=["a"])
    c = _spec("c", after=["a"])
    d = _spec("d", after=["b", "c"])
    for spec in (a, b, c, d):
        assert check_after(spec, _owner(a, b, c, d)) == []


def test_a_chained_job_may_not_have_a_cron_schedule():
    extract = _spec("extract")
    report = _spec("report", after=["extract"], cron="0 7 * * *")
    msgs = _messages(check_after(report, _owner(extract)))
    assert len(msgs) == 1
    assert "takes its times from them" in msgs[0]


def test_dependents_are_the_direct_ones_in_id_order():
    a = _spec("a")
    z = _spec("z", after=["a"])
    b = _spec("b", after=["a", "z"])
    c = _spec("c", after=["b"])
    assert [s["id"] for s in dependents(_owner(a, z, b, c), "a")] == ["b", "z"]
    assert dependents(_owner(a, z, b, c), "c") == []


def test_asset_names_differ_per_owner_and_job():
    assert asset_name("ana", "extract").startswith(dag_id_for("ana", "extract"))
    names = {asset_name(o, j) for o in ("ana", "ana.b", "ana_b") for j in ("x", "y")}
    assert len(names) == 6
