"""A private Ceph RADOS Gateway (radosgw) on 127.0.0.1: a real S3 server for the tests.

moto is a fake that accepts any signature; radosgw is production storage that checks
signatures, conditions and checksums the way S3 does. Debian's radosgw 16.2 cannot run on its
own (it has no standalone store), so this starts the smallest cluster it needs:

- one monitor and one OSD whose object store is ``memstore`` (RAM; saved to the temporary
  folder only between the OSD's format and its start),
- ``auth * required = none`` between the daemons (nothing but this machine can reach them)
  and pools of size 1,
- radosgw's beast front end on a free port, and one S3 user whose keys the caller chooses.

Everything lives in one temporary folder, every daemon runs in the foreground as our child,
and leaving the ``with`` block stops radosgw, the OSD and the monitor in that order and
removes the folder, so no daemon outlives the tests. Starting takes 1.5 s on a quiet 2-core
machine (15 s with the monitor's default batching, see ``paxos propose interval``) and
several on a busy one, which is why pytest starts it once per session.

Needs Debian's packages: ``apt-get install --no-install-recommends radosgw ceph-mon ceph-osd``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from .processes import TEST_ACCESS_KEY, TEST_SECRET_KEY, S3Endpoint, free_port, wait_for_url

#: The programs the cluster needs, and the Debian package that brings each.
PROGRAMS = {
    "ceph-mon": "ceph-mon",
    "ceph-osd": "ceph-osd",
    "radosgw": "radosgw",
    "radosgw-admin": "radosgw",
    "monmaptool": "ceph-base",
    "ceph": "ceph-common",
}
INSTALL_HINT = "apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd"
#: How long each step may take on a busy 2-core machine before we call it failed.
STEP_TIMEOUT = 90
#: memstore keeps every object in RAM; this caps it (the suites store well under 1 GiB).
MEMSTORE_BYTES = 4 * 1024**3


def _die_with_parent() -> list[str]:
    """A command prefix that makes a daemon get SIGTERM when the test process dies without
    cleaning up (killed by a timeout, say), so no cluster outlives its tests even then.

    util-linux's setpriv sets the parent-death signal and execs the daemon, which keeps it;
    without setpriv the orderly stop in ``_Cluster.stop`` is all there is.
    """
    return ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []


class CephUnavailable(RuntimeError):
    """The Ceph programs are not installed, so no radosgw can be started."""


def missing_programs() -> list[str]:
    """The programs of ``PROGRAMS`` that are not on PATH."""
    return [name for name in PROGRAMS if shutil.which(name) is None]


def _check_installed() -> None:
    missing = missing_programs()
    if missing:
        packages = sorted({PROGRAMS[name] for name in missing})
        raise CephUnavailable(
            f"Ceph's radosgw cannot be started: {', '.join(missing)} not found on PATH "
            f"(Debian packages {', '.join(packages)}). Install them with: {INSTALL_HINT}"
        )


def _config(folder: Path, fsid: str, mon_port: int, rgw_port: int) -> str:
    """ceph.conf for a one-monitor, one-OSD cluster on 127.0.0.1 with everything in ``folder``."""
    return f"""\
[global]
fsid = {fsid}
mon host = v2:127.0.0.1:{mon_port}
public addr = 127.0.0.1
# Only this machine reaches these daemons; cephx keys would only slow the start.
auth cluster required = none
auth service required = none
auth client required = none
# With auth off, msgr2's default "secure" mode cannot agree on keys (error -13): use crc.
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
# One OSD: every pool has one copy, few placement groups, and no warning about either.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = {MEMSTORE_BYTES}
osd data = {folder}/osd-$id
mon data = {folder}/mon-$id
run dir = {folder}
crash dir = {folder}/crash
log file = {folder}/$name.log
admin socket = {folder}/$name.asok
pid file = {folder}/$name.pid
keyring = {folder}/keyring
# The monitor batches map changes for 1 s by default; radosgw's start creates six pools,
# each a few map changes, so that alone took 9 s. One monitor has no one to batch for.
paxos propose interval = 0.05
paxos min wait = 0.01
# CRUSH spreads copies over OSDs, not hosts: there is one host.
osd crush chooseleaf type = 0

[client.rgw.smallfry]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw data = {folder}/rgw
# Give up (and exit, which the start notices) like every other step, not after 300 s.
rgw init timeout = {STEP_TIMEOUT}
"""


class _Cluster:
    """The daemons started so far, with their logs, so a failure can say what went wrong."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.conf = folder / "ceph.conf"
        self.daemons: list[tuple[str, subprocess.Popen]] = []

    def run(self, *args: str, timeout: float = STEP_TIMEOUT) -> str:
        """Run a Ceph tool against this cluster; its stdout, or an error that quotes it."""
        try:
            done = subprocess.run(
                [*args, "--conf", str(self.conf)],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{' '.join(args)} did not finish in {timeout}s") from None
        if done.returncode != 0:
            said = (done.stderr or done.stdout)[-2000:]
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {said}")
        return done.stdout

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """Start a daemon in the foreground (``-f``) as our child, logging to its file."""
        log = open(self.folder / f"{name}.out", "wb")  # noqa: SIM115 - the child keeps it open
        with log:
            proc = subprocess.Popen(
                [*_die_with_parent(), *args, "--conf", str(self.conf), "-f"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.daemons.append((name, proc))
        return proc

    def log_tail(self, name: str) -> str:
        """The end of a daemon's own log and of its console output, for error messages."""
        text = ""
        for path in (self.folder / f"{name}.log", self.folder / f"{name}.out"):
            if path.exists():
                text += f"\n--- {path.name}:\n" + path.read_text(errors="replace")[-3000:]
        return text

    def stop(self) -> None:
        """Stop the daemons one by one, last started first (radosgw, OSD, monitor).

        In that order each still has the daemons it talks to while it shuts down; stopping
        them all at once leaves radosgw waiting 5 s for a cluster that is gone.
        """
        while self.daemons:
            _name, proc = self.daemons.pop()
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def wait_until(self, what: str, check, name: str) -> None:
        """Poll ``check()`` until true; fail early with the daemon's log if it exits."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            for daemon, proc in self.daemons:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{daemon} exited with {proc.returncode} while waiting for {what}"
                        + self.log_tail(daemon)
                    )
            if check():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{what}: not within {STEP_TIMEOUT}s" + self.log_tail(name))


def _osd_is_up(cluster: _Cluster) -> bool:
    dump = json.loads(cluster.run("ceph", "osd", "dump", "--format=json"))
    return any(osd["up"] for osd in dump["osds"])


@contextlib.contextmanager
def ceph_rgw(
    access_key: str = TEST_ACCESS_KEY,
    secret_key: str = TEST_SECRET_KEY,
    region: str = "us-east-1",
) -> Iterator[S3Endpoint]:
    """A fresh radosgw with one user who signs with ``access_key``/``secret_key``.

    Yields its S3Endpoint once it answers S3; raises CephUnavailable (with the apt-get line)
    when Ceph is not installed, and RuntimeError/TimeoutError with the failing daemon's log
    when the cluster does not come up.
    """
    _check_installed()
    folder = Path(tempfile.mkdtemp(prefix="smallfry-ceph-"))
    cluster = _Cluster(folder)
    fsid = str(uuid.uuid4())
    mon_port, rgw_port = free_port(), free_port()
    cluster.conf.write_text(_config(folder, fsid, mon_port, rgw_port))
    (folder / "crash").mkdir()
    (folder / "rgw").mkdir()
    try:
        # The monitor: a one-member map, its store, then the daemon.
        monmap = folder / "monmap"
        subprocess.run(
            ["monmaptool", "--create", "--fsid", fsid, "--addv", "a", f"[v2:127.0.0.1:{mon_port}]"]
            + [str(monmap)],
            check=True,
            capture_output=True,
        )
        cluster.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(monmap))
        cluster.start("mon.a", "ceph-mon", "-i", "a")
        # The OSD: registered with the monitor (which answers once it is up), formatted, run.
        osd_uuid = str(uuid.uuid4())
        osd_id = cluster.run("ceph", "osd", "new", osd_uuid).strip()
        (folder / f"osd-{osd_id}").mkdir()
        cluster.run("ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
        cluster.start(f"osd.{osd_id}", "ceph-osd", "-i", osd_id)
        cluster.wait_until("the OSD to be up", lambda: _osd_is_up(cluster), f"osd.{osd_id}")
        # The gateway: it creates its pools at start, then serves S3.
        rgw = cluster.start("client.rgw.smallfry", "radosgw", "-n", "client.rgw.smallfry")
        endpoint_url = f"http://127.0.0.1:{rgw_port}"
        try:
            wait_for_url(endpoint_url, rgw, timeout=STEP_TIMEOUT)
        except (RuntimeError, TimeoutError) as err:
            raise RuntimeError(f"{err}" + cluster.log_tail("client.rgw.smallfry")) from None
        cluster.run(
            "radosgw-admin",
            "user",
            "create",
            "--uid=smallfry",
            "--display-name=Small Fry tests",
            f"--access-key={access_key}",
            f"--secret={secret_key}",
        )
        yield S3Endpoint("ceph", endpoint_url, access_key, secret_key, region)
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
