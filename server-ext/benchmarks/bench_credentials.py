"""The Jupyter server while its AWS keys rotate: event-loop stalls, gateway load, status cost.

    python server-ext/benchmarks/bench_credentials.py [--threads 8] [--seconds 6] [--every 0.15]

The Jupyter server runs in the ``ambient`` mode with a profile whose ``credential_process``
asks moto's STS for a new one-hour session (AssumeRole) on every call; the cache resolves
botocore's chain afresh on every lookup, so each refresh really yields new keys (and the
status panel asks STS who they belong to, as it does for every new key).

1. Stalls of the server: a thread probes ``GET /api/status`` (no upstream call, so its round
   trip is the time the event loop took to get to it) every 20 ms: during the server's first
   status call (its first lookup and STS identity), then with steady keys and while a thread
   forces a refresh (``POST /smallfry/credentials/refresh``, what the widget's button does)
   ``--every`` seconds after the last one answered, the two cases alternated, with nothing
   else running.
   Reports p50, p99 and max of each and the ratios against the steady case of the same run.
   Target: every probe under 50 ms while keys rotate.
2. The gateway under load: client threads send small S3 calls (GET, HEAD, ListObjectsV2)
   through the gateway for a fixed time, with steady keys and while keys rotate as above;
   boto3 straight to moto for context; ``/api/status`` is probed meanwhile too. Reports
   requests per second and latencies, the rotations that happened (and the lookups while
   keys were steady, which must be none), and every failed request.
3. The status call with cached keys: the server-side time of ``GET /smallfry/credentials``
   from Jupyter's request log, against ``GET /api/status`` measured the same way, and
   ``CredentialService.describe()`` timed in this process against the same moto.

Exits 1 if any request failed. Targets: no failed request across rotation; every
``/api/status`` probe under 50 ms while keys rotate; the cached status well under 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from botocore.exceptions import ClientError

from common import (
    direct_client,
    gateway_client,
    jupyter_server,
    moto_server,
    percentile,
    report,
)

BUCKET = "bench-credentials"
PROFILE = "smallfry-bench-rotating"
OBJECTS = 20
PROBE_PAUSE = 0.02
#: The issue's goal: no ``/api/status`` probe slower than this while keys rotate.
STALL_TARGET = 0.05
STATUS_CALLS = 500
#: The server must find no keys in its environment: only the rotating profile.
NO_ENV_KEYS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}

#: The profile's credential_process: one AssumeRole at moto per call, new keys every time.
#: Standard library only (it runs once per rotation); it appends the new key id to a log.
ASSUME_ROLE = r"""
import json, re, sys, time, urllib.parse, urllib.request
moto, issued, duration = sys.argv[1:4]
form = urllib.parse.urlencode({
    "Action": "AssumeRole", "Version": "2011-06-15", "DurationSeconds": duration,
    "RoleArn": "arn:aws:iam::123456789012:role/bench", "RoleSessionName": "bench",
}).encode()
request = urllib.request.Request(moto + "/", data=form, headers={
    "Content-Type": "application/x-www-form-urlencoded",
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIABENCHSOURCE00000/20260101/us-east-1/"
    "sts/aws4_request, SignedHeaders=host, Signature=0",
})
xml = urllib.request.urlopen(request, timeout=30).read().decode()
field = lambda name: re.search(f"<{name}>(.*?)</{name}>", xml, re.S).group(1)
with open(issued, "a") as log:
    log.write(f"{time.time():.6f} {field('AccessKeyId')}\n")
print(json.dumps({
    "Version": 1, "AccessKeyId": field("AccessKeyId"), "SecretAccessKey": field("SecretAccessKey"),
    "SessionToken": field("SessionToken"), "Expiration": field("Expiration"),
}))
"""


class Issued:
    """The key ids the credential_process handed out, in order (read from its log)."""

    def __init__(self, path: Path):
        self.path = path

    def keys(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line.split()[1] for line in self.path.read_text().splitlines() if line.strip()]


def rotating_profile(folder: Path, moto_url: str, duration: int) -> tuple[dict, Issued]:
    """An AWS config whose profile assumes a role for ``duration`` seconds at each lookup.

    Returns the environment that selects it (and nothing else) and the log of issued keys.
    """
    folder.mkdir()
    script = folder / "assume_role.py"
    script.write_text(ASSUME_ROLE)
    issued = folder / "issued.log"
    config = folder / "config"
    command = shlex.join([sys.executable, "-S", str(script), moto_url, str(issued), str(duration)])
    config.write_text(f"[profile {PROFILE}]\nregion = us-east-1\ncredential_process = {command}\n")
    (folder / "credentials").write_text("")
    env = {
        **NO_ENV_KEYS,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "credentials"),
        "AWS_PROFILE": PROFILE,
    }
    return env, Issued(issued)


class Load:
    """``threads`` clients sending small S3 calls for ``seconds``; latencies and failures."""

    def __init__(self, make_client, threads: int):
        self.clients = [make_client() for _ in range(threads)]

    def run(self, seconds: float) -> tuple[list[float], float, list[str]]:
        """Latencies of the successful calls, the wall time taken, and the failures."""
        latencies: list[list[float]] = [[] for _ in self.clients]
        failures: list[str] = []
        stop = time.perf_counter() + seconds

        def work(index: int, s3) -> None:
            calls = (
                ("GetObject", lambda k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()),
                ("HeadObject", lambda k: s3.head_object(Bucket=BUCKET, Key=k)),
                ("ListObjectsV2", lambda k: s3.list_objects_v2(Bucket=BUCKET, Prefix="o/")),
            )
            i = index
            while time.perf_counter() < stop:
                name, call = calls[i % 3]
                key = f"o/{i % OBJECTS:03d}.json"
                began = time.perf_counter()
                try:
                    call(key)
                    latencies[index].append(time.perf_counter() - began)
                except ClientError as err:  # any answer but 2xx
                    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                    failures.append(f"{time.time():.3f} {name} {key}: HTTP {status} {err}")
                except Exception as err:  # noqa: BLE001 - connection errors, timeouts: failures too
                    failures.append(f"{time.time():.3f} {name} {key}: {type(err).__name__}: {err}")
                i += 1

        start = time.perf_counter()
        threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [t for done in latencies for t in done], time.perf_counter() - start, failures


class Every:
    """Calls ``fn()`` ``pause`` seconds after its last call returned, in a thread, while open.

    Keeps each call's duration and result; an exception is kept as the result.
    """

    def __init__(self, fn, pause: float):
        self.fn = fn
        self.pause = pause
        self.seconds: list[float] = []
        self.results: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.pause):
            start = time.perf_counter()
            try:
                result = self.fn()
            except Exception as err:  # noqa: BLE001 - any error is a result to report, not a crash
                result = err
            self.seconds.append(time.perf_counter() - start)
            self.results.append(result)


def refresher(server, http: requests.Session):
    """``POST /smallfry/credentials/refresh``: (HTTP status, state or error text, last_refresh)."""

    def refresh() -> tuple[int, str, str]:
        reply = http.post(
            f"{server.url}smallfry/credentials/refresh",
            headers={"Authorization": f"token {server.token}"},
            timeout=60,
        )
        body = reply.json() if reply.status_code == 200 else {}
        return reply.status_code, body.get("state", reply.text[:300]), body.get("last_refresh", "")

    return refresh


def prober(server, http: requests.Session):
    """``GET /api/status``: no upstream call, so its round trip shows stalls of the server."""
    return lambda: http.get(f"{server.url}api/status", timeout=60).raise_for_status()


def server_time_of(server, paths: tuple[str, str], calls: int) -> dict[str, float]:
    """Median server-side and round-trip seconds of GETs of two paths, ``calls`` each.

    The server side is what Jupyter's request log says (``--debug``: tornado's time from the
    parsed request to the finished response, so it includes Jupyter's own authentication).
    The calls alternate, and ``added`` is the median of the differences of neighbouring
    calls: the first path's cost over the second's, with little of the machine's drift.
    """
    headers = {"Authorization": f"token {server.token}"}
    trips: dict[str, list[float]] = {path: [] for path in paths}
    with requests.Session() as http:
        for path in paths:  # warm up: the connection, the first identity lookup
            for _ in range(20):
                assert http.get(server.url + path, headers=headers).status_code == 200
        for _ in range(calls):
            for path in paths:
                start = time.perf_counter()
                reply = http.get(server.url + path, headers=headers)
                trips[path].append(time.perf_counter() - start)
                assert reply.status_code == 200, (path, reply.status_code)
    logged: dict[str, list[float]] = {path: [] for path in paths}
    for match in re.finditer(r"200 GET /(\S+) \(\S*\) ([\d.]+)ms", server.log_text()):
        if match.group(1) in logged:
            logged[match.group(1)].append(float(match.group(2)) / 1000)
    first, second = (logged[path][-calls:] for path in paths)
    return {
        "server": statistics.median(first),
        "baseline server": statistics.median(second),
        "added": statistics.median(a - b for a, b in zip(first, second)),
        "trip": statistics.median(trips[paths[0]]),
        "baseline trip": statistics.median(trips[paths[1]]),
    }


def in_process_describe(moto_url: str, env: dict, calls: int) -> tuple[float, float]:
    """Median seconds of ``describe()`` and ``status()`` with cached keys, in this process."""
    from jupyterlab_smallfry.config import SmallFry
    from jupyterlab_smallfry.credentials.cache import ambient_fetcher
    from jupyterlab_smallfry.credentials.service import CredentialService

    config = SmallFry(sts_endpoint_url=moto_url, endpoint_url=moto_url)
    service = CredentialService.build(config, "us-east-1", ambient=ambient_fetcher())

    async def measure() -> tuple[float, float]:
        first = await service.describe()  # the one lookup and the one GetCallerIdentity
        assert first["state"] == "ok" and first["identity"], first
        describe, status = [], []
        for _ in range(calls):
            start = time.perf_counter()
            await service.describe()
            describe.append(time.perf_counter() - start)
            start = time.perf_counter()
            service.status()
            status.append(time.perf_counter() - start)
        assert service.cache.lookups == 1, service.cache.lookups
        return statistics.median(describe), statistics.median(status)

    # botocore reads the profile when the first lookup runs, so the environment stays until then.
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        return asyncio.run(measure())
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def spread(samples: list[float]) -> str:
    """p50, p99 and max of ``samples`` (seconds), in milliseconds."""
    return (
        f"p50 {percentile(samples, 0.5) * 1000:.0f} ms, p99 {percentile(samples, 0.99) * 1000:.0f} "
        f"ms, max {max(samples) * 1000:.0f} ms"
    )


def ratios(rotating: list[float], steady: list[float]) -> str:
    """How much worse the rotating probes are than the steady ones of the same run."""
    p99 = percentile(rotating, 0.99) / percentile(steady, 0.99)
    return f"p99 {p99:.2f}x, max {max(rotating) / max(steady):.2f}x"


class Phase:
    """What one case (direct, steady or rotating) added up to over its runs."""

    def __init__(self):
        self.latencies: list[float] = []
        self.seconds = 0.0
        self.failures: list[str] = []
        self.stalls: list[float] = []  # round trips of GET /api/status during the runs

    def add(self, run: tuple[list[float], float, list[str]]) -> None:
        latencies, seconds, failures = run
        self.latencies += latencies
        self.seconds += seconds
        self.failures += failures

    def probed(self, probe: Every) -> None:
        """Keep the ``/api/status`` round trips of ``probe``; a failed probe is a failure."""
        for seconds, result in zip(probe.seconds, probe.results):
            if isinstance(result, Exception):
                self.failures.append(f"GET /api/status: {type(result).__name__}: {result}")
            else:
                self.stalls.append(seconds)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def spread(self) -> str:
        return spread(self.latencies)


class Rotations:
    """The forced refreshes of all rotating runs: answers, their durations, new keys."""

    def __init__(self, issued: Issued):
        self.issued = issued
        self.answers: list = []
        self.seconds: list[float] = []
        self.keys: list[str] = []
        self.steady_lookups = 0  # lookups during steady runs (must stay 0)

    def steady(self, run) -> None:
        """Run ``run()`` with steady keys and count any lookup it caused."""
        before = len(self.issued.keys())
        run()
        self.steady_lookups += len(self.issued.keys()) - before

    def rotating(self, server, run, every: float) -> None:
        """Run ``run()`` while a thread forces a refresh ``every`` seconds after the last."""
        before = len(self.issued.keys())
        with requests.Session() as http, Every(refresher(server, http), every) as rotator:
            run()
        self.answers += rotator.results
        self.seconds += rotator.seconds
        self.keys += self.issued.keys()[before:]

    def failures(self) -> list[str]:
        return [
            f"POST /smallfry/credentials/refresh: {answer!r}"
            for answer in self.answers
            if isinstance(answer, Exception) or answer[:2] != (200, "ok")
        ]

    @property
    def completed(self) -> int:
        """Distinct refreshes the server reported (``last_refresh`` of each 200 answer)."""
        answered = [a for a in self.answers if not isinstance(a, Exception)]
        return len({when for code, _, when in answered if code == 200})

    @property
    def ok(self) -> int:
        return sum(1 for a in self.answers if not isinstance(a, Exception) and a[:2] == (200, "ok"))


def first_status(server, probes: requests.Session) -> tuple[float, Every]:
    """The server's first ``GET /smallfry/credentials`` (first lookup, first STS identity) with
    ``/api/status`` probed around it: the call's seconds and the finished probe."""
    with Every(prober(server, probes), PROBE_PAUSE) as probe:
        time.sleep(5 * PROBE_PAUSE)  # a few probes before, so the call lands among them
        start = time.perf_counter()
        status = requests.get(
            f"{server.url}smallfry/credentials",
            headers={"Authorization": f"token {server.token}"},
            timeout=60,
        ).json()
        took = time.perf_counter() - start
        time.sleep(5 * PROBE_PAUSE)
    assert status["mode"] == "ambient" and status["state"] == "ok", status
    assert status["identity"], status  # the status panel's GetCallerIdentity answered
    return took, probe


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each timed run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each case, alternated")
    parser.add_argument("--every", type=float, default=0.15, help="pause between refreshes (s)")
    args = parser.parse_args()
    direct, steady, rotating = Phase(), Phase(), Phase()  # under load
    quiet_steady, quiet_rotating, cold = Phase(), Phase(), Phase()  # nothing else running

    with tempfile.TemporaryDirectory(prefix="smallfry-bench-") as tmp, moto_server() as moto:
        # One-hour sessions, new keys on every lookup; steady phases must see no lookups.
        env, issued = rotating_profile(Path(tmp) / "rotating", moto, 3600)
        # A second profile for the status-call server, so its lookups are counted apart.
        hour_env, _ = rotating_profile(Path(tmp) / "hour", moto, 3600)
        rotations = Rotations(issued)
        s3 = direct_client(moto)
        s3.create_bucket(Bucket=BUCKET)
        for i in range(OBJECTS):
            s3.put_object(Bucket=BUCKET, Key=f"o/{i:03d}.json", Body=b'{"n": %d}' % i)
        endpoints = (f"--SmallFry.endpoint_url={moto}", f"--SmallFry.sts_endpoint_url={moto}")
        with jupyter_server(*endpoints, env=env) as server, requests.Session() as probes:
            probes.headers["Authorization"] = f"token {server.token}"
            first_seconds, probe = first_status(server, probes)
            cold.probed(probe)
            expires_in = requests.get(
                f"{server.url}smallfry/credentials",
                headers={"Authorization": f"token {server.token}"},
            ).json()["expires_in"]

            def quiet(phase: Phase):
                def run() -> None:
                    with Every(prober(server, probes), PROBE_PAUSE) as probe:
                        time.sleep(args.seconds)
                    phase.probed(probe)

                return run

            def loaded(phase: Phase, load: Load):
                def run() -> None:
                    with Every(prober(server, probes), PROBE_PAUSE) as probe:
                        phase.add(load.run(args.seconds))
                    phase.probed(probe)

                return run

            # 1. Stalls with nothing else running; the cases alternate, so drift hits both.
            for _ in range(args.rounds):
                rotations.steady(quiet(quiet_steady))
                rotations.rotating(server, quiet(quiet_rotating), args.every)
            quiet_rotations = rotations.completed

            # 2. The same under load.
            load = Load(lambda: gateway_client(server), args.threads)
            load.run(1.0)  # warm up: connections, imports
            straight = Load(lambda: direct_client(moto), args.threads)
            for _ in range(args.rounds):
                direct.add(straight.run(args.seconds))
                rotations.steady(loaded(steady, load))
                rotations.rotating(server, loaded(rotating, load), args.every)
            log = server.log_text()
        # A second server logs every request (--debug); the load above ran without that cost.
        with jupyter_server(*endpoints, env=hour_env, debug=True) as server:
            timings = server_time_of(server, ("smallfry/credentials", "api/status"), STATUS_CALLS)
        describe_s, status_s = in_process_describe(moto, hour_env, 2000)

    phases = (cold, quiet_steady, quiet_rotating, direct, steady, rotating)
    failures = [line for phase in phases for line in phase.failures] + rotations.failures()
    requests_sent = (
        sum(len(p.latencies) + len(p.stalls) for p in phases)
        + len(rotations.answers)
        + len(failures)
    )
    worst = max(quiet_rotating.stalls)
    report(
        f"Stalls of the Jupyter server: GET /api/status every {PROBE_PAUSE * 1000:.0f} ms, "
        f"nothing else running, {args.rounds} x {args.seconds:.0f} s per case, alternated",
        [
            (
                "during the first status call",
                (
                    f"max {max(cold.stalls) * 1000:.0f} ms  (the call: "
                    f"{first_seconds * 1000:.0f} ms, first lookup and first STS identity)"
                ),
            ),
            ("keys steady", f"{spread(quiet_steady.stalls)}  ({len(quiet_steady.stalls)} probes)"),
            (
                "keys rotating",
                f"{spread(quiet_rotating.stalls)}  ({len(quiet_rotating.stalls)} probes)",
            ),
            ("rotating / steady", ratios(quiet_rotating.stalls, quiet_steady.stalls)),
            (
                "longest while rotating",
                (
                    f"{worst * 1000:.0f} ms  (target < {STALL_TARGET * 1000:.0f} ms: "
                    f"{'met' if worst < STALL_TARGET else 'NOT MET'})"
                ),
            ),
            ("rotations", f"{quiet_rotations}, each {args.every * 1000:.0f} ms after the last"),
        ],
    )
    report(
        f"Gateway under load: {args.threads} threads of small S3 calls (GET, HEAD, "
        f"ListObjectsV2), {args.rounds} x {args.seconds:.0f} s per case, alternated",
        [
            ("boto3 direct (context)", f"{direct.rps:.0f} req/s  ({direct.spread()})"),
            ("gateway, keys steady", f"{steady.rps:.0f} req/s  ({steady.spread()})"),
            ("gateway, keys rotating", f"{rotating.rps:.0f} req/s  ({rotating.spread()})"),
            ("rotating / steady", f"{rotating.rps / steady.rps:.2f}x"),
            ("gateway steady / direct", f"{steady.rps / direct.rps:.2f}x"),
            ("/api/status meanwhile, steady", spread(steady.stalls)),
            ("/api/status meanwhile, rotating", spread(rotating.stalls)),
            ("/api/status rotating / steady", ratios(rotating.stalls, steady.stalls)),
        ],
    )
    report(
        "Rotations (both parts)",
        [
            (
                "forced refreshes",
                (
                    f"{len(rotations.answers)}, {rotations.ok} answered 200 'ok' (median "
                    f"{statistics.median(rotations.seconds) * 1000:.0f} ms), "
                    f"each {args.every * 1000:.0f} ms after the last"
                ),
            ),
            (
                "rotations completed",
                (
                    f"{rotations.completed}  ({len(set(rotations.keys))} new STS sessions of "
                    f"{expires_in} s; {rotations.steady_lookups} lookups while steady)"
                ),
            ),
            ("failed requests", f"{len(failures)} of {requests_sent}  (target 0)"),
        ],
    )
    t = {name: seconds * 1e6 for name, seconds in timings.items()}
    report(
        f"Status call with cached keys (GET /smallfry/credentials), {STATUS_CALLS} calls, "
        "alternated with GET /api/status",
        [
            ("server time, median", f"{t['server']:.0f} us  (target well under 1,000 us)"),
            ("GET /api/status server time", f"{t['baseline server']:.0f} us"),
            ("status / api/status, server time", f"{t['server'] / t['baseline server']:.2f}x"),
            ("added over /api/status, median", f"{t['added']:+.0f} us"),
            (
                "round trip, median",
                (
                    f"{t['trip']:.0f} us vs {t['baseline trip']:.0f} us  "
                    f"({t['trip'] / t['baseline trip']:.2f}x)"
                ),
            ),
            (
                "describe() in process, median",
                f"{describe_s * 1e6:.1f} us  (status() alone {status_s * 1e6:.1f} us)",
            ),
        ],
    )
    for line in failures[:20]:
        print(f"  FAILED {line}")
    if failures:
        warned = [line for line in log.splitlines() if re.match(r"\[[WE] ", line)]
        print("\nServer log, warnings and errors (last 30):")
        for line in warned[-30:]:
            print(f"  {line}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
