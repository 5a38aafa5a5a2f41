"""The job store: strict reading of stored specs and conditional writes, on a local folder and
on a real (moto) S3 server, including writers that race."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from jupyterlab_smallfry.jobs.store import (
    JobStore,
    Storage,
    StoreConflict,
    dumps,
    list_runs,
    owner_key,
    run_order,
    safe_run_id,
    spec_etag,
)
from jupyterlab_smallfry.jobs.validation import MAX_SPEC_BYTES, SpecError

from .jobs_support import s3_storage

pytestmark = pytest.mark.timeout(120)

FIXTURES = Path(__file__).resolve().parents[1] / "jobs" / "fixtures"
FULL = json.loads((FIXTURES / "valid" / "full.json").read_text())


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        yield JobStore(str(tmp_path / "jobs") + "/", Storage())
    else:
        moto_url = request.getfixturevalue("moto_url")
        bucket = request.getfixturevalue("bucket")
        yield JobStore(f"s3://{bucket}/jobs/", s3_storage(moto_url))


def _raw_put(store: JobStore, owner: str, name: str, data: bytes) -> None:
    """Write bytes behind the store's back (a user with write access, or another tool)."""
    store.storage.write(store.uri(owner, name), data)


def spec(job_id="daily-sales", **changes):
    return {**FULL, "id": job_id, **changes}


def test_spec_etag_is_the_quoted_sha256_of_the_bytes():
    assert spec_etag(b"{}") == '"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"'


def test_get_with_etag_round_trips(store):
    assert store.get_with_etag("alice", "daily-sales") is None
    assert store.put(spec(), create=True) is True
    got, etag = store.get_with_etag("alice", "daily-sales")
    assert got == spec() == store.get("alice", "daily-sales")
    assert etag == spec_etag(dumps(spec()))


@pytest.mark.parametrize(
    "data,words",
    [
        (b'{"id": "x", "days": NaN}', "NaN is not a JSON number"),
        (b'{"id": "x", "id": "y"}', "appears twice"),
        (b"[1, 2]", "is not a JSON object"),
        (b"{", "not valid JSON"),
        (b" " * MAX_SPEC_BYTES + b"{}", f"larger than {MAX_SPEC_BYTES} bytes"),
    ],
    ids=["nan", "duplicate-key", "array", "broken", "too-large"],
)
def test_a_bad_stored_file_is_skipped_in_list_and_named_by_get(store, data, words):
    store.put(spec())
    _raw_put(store, "alice", "bad", data)
    assert [s["id"] for s in store.list("alice")] == ["daily-sales"]
    with pytest.raises(SpecError, match=words) as err:
        store.get("alice", "bad")
    assert "the stored job spec" in str(err.value) and "bad.json" in str(err.value)


def test_conditional_put_writes_only_over_the_version_read(store):
    store.put(spec())
    _got, etag = store.get_with_etag("alice", "daily-sales")
    assert store.put(spec(title="second"), if_match=etag) is True
    # The first writer's etag is stale now: its write is refused with the current etag.
    with pytest.raises(StoreConflict) as err:
        store.put(spec(title="lost update"), if_match=etag)
    assert err.value.etag == spec_etag(dumps(spec(title="second")))
    assert "changed by someone else" in str(err.value)
    assert store.get("alice", "daily-sales")["title"] == "second"


def test_conditional_put_of_a_deleted_spec_is_a_conflict(store):
    store.put(spec())
    _got, etag = store.get_with_etag("alice", "daily-sales")
    store.delete("alice", "daily-sales")
    with pytest.raises(StoreConflict) as err:
        store.put(spec(), if_match=etag)
    assert err.value.etag is None and "deleted" in str(err.value)
    assert store.get("alice", "daily-sales") is None


def test_create_and_if_match_exclude_each_other(store):
    with pytest.raises(ValueError):
        store.put(spec(), create=True, if_match='"x"')


def test_racing_writers_exactly_one_wins(store):
    """Writers that all read the same version and write at once: one wins, the others learn
    the winner's etag, and the stored spec is the winner's."""
    store.put(spec())
    _got, etag = store.get_with_etag("alice", "daily-sales")
    writers = 8
    start = threading.Barrier(writers)
    results: dict[int, object] = {}

    def write(n):
        start.wait()
        try:
            results[n] = store.put(spec(title=f"writer {n}"), if_match=etag)
        except StoreConflict as err:
            results[n] = err

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in results.items() if r is True]
    assert len(winners) == 1, results
    final = store.get("alice", "daily-sales")
    assert final["title"] == f"writer {winners[0]}"
    conflicts = [r for r in results.values() if isinstance(r, StoreConflict)]
    assert len(conflicts) == writers - 1
    assert {c.etag for c in conflicts} == {spec_etag(dumps(final))}


def test_s3_writer_in_between_read_and_put_makes_s3_refuse(moto_url, bucket, direct_s3):
    """The window between our compare and our PUT is closed by S3's If-Match on the version
    read: another writer's PUT inside it turns ours into a 412, not a lost update."""
    store = JobStore(f"s3://{bucket}/jobs/", s3_storage(moto_url))
    store.put(spec())
    _got, etag = store.get_with_etag("alice", "daily-sales")
    key = f"jobs/{owner_key('alice')}/daily-sales.json"
    sneaky = dumps(spec(title="written in between"))
    real_client = store.storage.s3
    puts = []

    class InBetween:
        """The real client, except that another writer gets in just before our PUT."""

        def __getattr__(self, name):
            return getattr(real_client, name)

        def put_object(self, **kwargs):
            puts.append(kwargs)
            direct_s3.put_object(Bucket=bucket, Key=key, Body=sneaky)
            return real_client.put_object(**kwargs)

    store.storage._client = InBetween()
    with pytest.raises(StoreConflict) as err:
        store.put(spec(title="mine"), if_match=etag)
    assert err.value.etag == spec_etag(sneaky)
    assert puts and puts[0]["IfMatch"].startswith('"')  # S3's ETag, not ours
    assert puts[0]["IfMatch"] != etag
    body = direct_s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == sneaky


def test_local_writes_of_a_spec_hold_its_lock_file(tmp_path):
    """The local read-compare-replace happens under flock on a lock file outside the owner's
    folder, so listings and the DAG factory never see it."""
    import fcntl
    import os

    store = JobStore(str(tmp_path) + "/", Storage())
    store.put(spec())
    _got, etag = store.get_with_etag("alice", "daily-sales")
    lock = tmp_path / ".locks" / "alice" / "daily-sales.lock"
    assert lock.exists()
    assert sorted(p.name for p in (tmp_path / "alice").iterdir()) == ["daily-sales.json"]
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer is inside its read-compare-replace
    done = threading.Event()

    def write():
        try:
            store.put(spec(title="waits"), if_match=etag)
        finally:
            done.set()

    t = threading.Thread(target=write)
    t.start()
    # While the other writer holds the lock, ours cannot finish.
    assert not done.wait(0.5)
    assert store.get("alice", "daily-sales")["title"] == FULL["title"]
    os.close(fd)
    t.join()
    assert store.get("alice", "daily-sales")["title"] == "waits"
    assert [s["id"] for s in store.list("alice")] == ["daily-sales"]


# --- a job's recent runs -------------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def runs_root(request, tmp_path):
    """``(storage, runs folder URI)`` on a local folder and on a real (moto) S3 server."""
    if request.param == "local":
        return Storage(), str(tmp_path / "runs") + "/"
    moto_url = request.getfixturevalue("moto_url")
    bucket = request.getfixturevalue("bucket")
    return s3_storage(moto_url), f"s3://{bucket}/runs/"


def _write_run(storage, runs, run_id, status="success", start=None, job="daily-sales"):
    folder = f"{runs}alice/{job}/{safe_run_id(run_id)}/"
    storage.write(folder + "output.ipynb", b"{}")
    if status is not None:
        doc = {"run_id": run_id, "status": status, "start": start}
        storage.write(folder + "run.json", json.dumps(doc).encode())


def test_recent_runs_are_the_newest_by_run_id_time_whatever_was_written_last(runs_root):
    """Airflow's scheduled and manual runs and this server's Run now interleave by the time in
    their ids, not by which manifest was written last (a backfill or a slow run writes late)."""
    storage, runs = runs_root
    for day in (24, 21, 23):  # written out of order
        when = f"2026-11-{day}T06:00:00+00:00"
        _write_run(storage, runs, f"scheduled__{when}", start=when.replace("+00:00", "Z"))
    _write_run(storage, runs, "manual__2026-11-22T09:30:00.123456+00:00", start="2026-11-22T09:30Z")
    _write_run(storage, runs, "smallfry__2026-11-25T07-00-00__a1b2c3", start="2026-11-25T07:00Z")
    _write_run(storage, runs, "manual__2026-11-26T08:00:00+00:00", status=None)  # no manifest yet
    _write_run(storage, runs, "other-job-run", job="weekly")  # another job's folder
    template = runs + "{owner}/{job_id}/{run_id}/"
    got = list_runs(storage, template, "alice", "daily-sales", limit=3)
    assert [r["run_id"] for r in got] == [
        "smallfry__2026-11-25T07-00-00__a1b2c3",
        "scheduled__2026-11-24T06:00:00+00:00",
        "scheduled__2026-11-23T06:00:00+00:00",
    ]
    folder = f"{runs}alice/daily-sales/smallfry__2026-11-25T07-00-00__a1b2c3/"
    assert got[0]["output_uri"] == folder + "output.ipynb"
    everything = list_runs(storage, template, "alice", "daily-sales", limit=50)
    assert len(everything) == 5  # the folder without a manifest is skipped, not an error
    assert everything[-1]["run_id"] == "scheduled__2026-11-21T06:00:00+00:00"
    assert list_runs(storage, template, "alice", "never-ran") == []


def test_recent_runs_read_only_the_manifests_shown(moto_url, bucket):
    """1,200 runs (two listing pages of run folders): showing 5 reads 5 manifests."""
    from concurrent.futures import ThreadPoolExecutor

    storage = s3_storage(moto_url)
    runs = f"s3://{bucket}/runs/"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    ids = [f"scheduled__{(start + dt.timedelta(hours=h)).isoformat()}" for h in range(1200)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda run_id: _write_run(storage, runs, run_id, start="x"), ids))
    calls: list[str] = []
    storage.s3.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    got = list_runs(storage, runs + "{owner}/{job_id}/{run_id}/", "alice", "daily-sales", 5)
    assert [r["run_id"] for r in got] == ids[::-1][:5]
    assert calls.count("GetObject") == 5
    assert calls.count("ListObjectsV2") == 2  # 1,000 run folders a page, not 2,400 objects


def test_run_order_sorts_by_the_utc_time_in_the_id():
    ordered = sorted(
        [
            "scheduled__2026-11-24T06-00-00-00-00",
            "custom-id",
            "manual__2026-11-24T06-00-00.5-00-00",
            "smallfry__2026-11-23T23-59-59__ff",
        ],
        key=run_order,
    )
    assert ordered == [
        "custom-id",  # no time: older than any timed run
        "smallfry__2026-11-23T23-59-59__ff",
        "scheduled__2026-11-24T06-00-00-00-00",
        "manual__2026-11-24T06-00-00.5-00-00",
    ]
