"""progress.json while a run goes: real papermill kernels, read back from a real (moto) S3.

What the Jobs panel shows of a running job comes from here: the cell number advancing, the
last lines of output, and a last ``done``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time

import pytest

from jupyterlab_smallfry.jobs.progress import Tail
from jupyterlab_smallfry.jobs.runner import run_spec
from jupyterlab_smallfry.jobs.snapshot import take_snapshot
from jupyterlab_smallfry.jobs.store import Storage

from .jobs_support import FAILING, notebook, read_json, s3_storage, spec_for

pytestmark = pytest.mark.timeout(180)


def test_tail_reads_like_a_terminal():
    tail = Tail(size=3)
    tail.add("downloading")
    tail.add(" 10%\r downloading 100%\n")  # a progress bar rewrites its line
    tail.add("a\nb")
    tail.add("c\n")
    tail.add("Out: 42", whole=True)
    assert tail.tail() == ["a", "bc", "Out: 42"]
    tail.add("x" * 5000 + "\n")
    assert len(tail.tail()[-1]) == 400 and tail.tail()[-1].endswith("…")


@pytest.fixture
def storage(moto_url):
    return s3_storage(moto_url)


def _spec(storage, bucket, data, job="progress", **extra):
    uri, sha = take_snapshot(storage, data, f"s3://{bucket}/snapshots/")
    return spec_for(job, uri, sha, f"s3://{bucket}/runs/", **extra)


def _run_in_background(spec, storage, run_id="r1", **kw):
    result: dict = {}

    def run():
        result["manifest"] = run_spec(spec, run_id, storage, **kw)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def _watch(direct_s3, bucket, key, thread) -> list[dict]:
    """Every distinct progress.json seen while the run goes (what a panel polling would see)."""
    seen: list[dict] = []
    while thread.is_alive():
        try:
            doc = json.loads(direct_s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except direct_s3.exceptions.NoSuchKey:
            doc = None
        if doc is not None and (not seen or doc != seen[-1]):
            seen.append(doc)
        time.sleep(0.2)
    thread.join()
    return seen


SLOW = notebook(
    'import time\nprint("step 1")\ntime.sleep(3)',
    'print("step 2")\ntime.sleep(3)',
    'print("step 3")\ntime.sleep(3)',
)


def test_progress_shows_the_cell_and_its_output_as_the_run_goes(storage, direct_s3, bucket):
    spec = _spec(storage, bucket, SLOW)
    thread, result = _run_in_background(spec, storage)
    seen = _watch(direct_s3, bucket, "runs/alice/progress/r1/progress.json", thread)

    running = [d for d in seen if d["state"] == "running"]
    # Five code cells: the parameters cell, papermill's injected one, then the three above.
    assert {d["cells"] for d in seen} == {5}
    by_cell = {d["cell"]: d for d in running}
    assert {3, 4, 5} <= set(by_cell), [d["cell"] for d in running]
    assert [d["cell"] for d in running] == sorted(d["cell"] for d in running)  # only forward
    # While cell 4 runs the panel shows its first line and the output so far.
    cell4 = [d for d in running if d["cell"] == 4]
    assert all(d["cell_source_head"] == 'print("step 2")' for d in cell4)
    assert any(d["output_tail"] == ["step 1", "step 2"] for d in cell4), cell4
    assert [d["elapsed_seconds"] for d in seen] == sorted(d["elapsed_seconds"] for d in seen)

    final = read_json(direct_s3, bucket, "runs/alice/progress/r1/progress.json")
    run = read_json(direct_s3, bucket, "runs/alice/progress/r1/run.json")
    assert final["state"] == "done" and final["cell"] == 5 and final["cells"] == 5
    assert final["output_tail"] == ["step 1", "step 2", "step 3"]
    assert final["started"] == run["start"] and final["elapsed_seconds"] >= 9
    assert run["status"] == result["manifest"]["status"] == "success" and run["cells"] == 5


def test_a_failing_run_ends_with_its_error_in_the_tail(storage, direct_s3, bucket):
    spec = _spec(storage, bucket, FAILING, job="failing")
    assert run_spec(spec, "r1", storage)["status"] == "failed"

    final = read_json(direct_s3, bucket, "runs/alice/failing/r1/progress.json")
    assert final["state"] == "done"
    assert final["cell"] == 4 and final["cells"] == 5  # the raising cell, of five
    assert final["cell_source_head"] == "x = 41"
    assert final["output_tail"][0] == "before the failure"
    assert final["output_tail"][-1] == "ValueError: boom 42"
    assert not any("\x1b[" in line for line in final["output_tail"])  # no terminal colours
    run = read_json(direct_s3, bucket, "runs/alice/failing/r1/run.json")
    assert run["cells"] == 5
    assert run["error"]["type"] == "ValueError" and run["error"]["message"] == "boom 42"
    assert run["error"]["cell_index"] == 3 and run["error"]["execution_count"] == 4
    assert "raise ValueError" in run["error"]["cell_source"]
    assert "ValueError: boom 42" in run["error"]["traceback"]


class CountingStorage(Storage):
    """The run's storage, counting (or refusing) progress.json writes."""

    def __init__(self, inner: Storage, refuse: bool = False):
        super().__init__(inner._factory)
        self.progress_writes: list[float] = []
        self.refuse = refuse

    def write(self, uri, data, **kw):
        if uri.endswith("/progress.json"):
            self.progress_writes.append(time.monotonic())
            if self.refuse:
                raise OSError("S3 said no (a test)")
        return super().write(uri, data, **kw)


def test_chatty_output_is_written_at_most_every_two_seconds(storage, direct_s3, bucket):
    chatty = notebook(
        'import time\nfor i in range(120):\n    print("tick", i, flush=True)\n    time.sleep(0.05)'
    )
    counting = CountingStorage(storage)
    spec = _spec(storage, bucket, chatty, job="chatty")
    assert run_spec(spec, "r1", counting)["status"] == "success"

    writes = counting.progress_writes
    # ~6 s of output: the start and the three cell starts (all in the first moments), then
    # one write per 2 s of output, and the last one.
    assert 4 <= len(writes) <= 4 + 4 + 1, writes
    throttled = [t for t in writes[:-1] if t - writes[0] > 1.0]
    gaps = [b - a for a, b in itertools.pairwise(throttled)]
    assert len(throttled) >= 2 and all(gap >= 1.9 for gap in gaps), gaps
    final = read_json(direct_s3, bucket, "runs/alice/chatty/r1/progress.json")
    assert final["output_tail"] == [f"tick {i}" for i in range(100, 120)]


def test_progress_that_cannot_be_written_never_fails_the_run(storage, direct_s3, bucket, caplog):
    refusing = CountingStorage(storage, refuse=True)
    spec = _spec(storage, bucket, notebook('print("fine")'), job="quiet")
    assert run_spec(spec, "r1", refusing)["status"] == "success"
    assert refusing.progress_writes  # it tried
    assert read_json(direct_s3, bucket, "runs/alice/quiet/r1/run.json")["status"] == "success"
    assert "progress.json failed: S3 said no" in caplog.text
