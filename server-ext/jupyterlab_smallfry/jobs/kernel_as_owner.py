"""Run a scheduled notebook's kernel as its owner's Unix account, with an environment built
from scratch (opt-in: ``SMALLFRY_KERNEL_AS_OWNER=1``).

Why: by default the kernel is a child of the Airflow task. It runs as the worker's account and
inherits the worker's whole environment: Airflow's database URL and JWT secret, the
spec-signing key file (``SMALLFRY_SPEC_KEY_FILE``), the worker's own AWS keys. A notebook could
then read the key, sign a spec for another user, or reach Airflow's database. On the
one-machine team platform every user has a Unix account named like their Hub user (the job
spec's ``owner``), so the kernel can run as that account instead, where the files of the
worker are out of reach, and see only what it needs.

How: a :class:`jupyter_client.manager.AsyncKernelManager` subclass (handed to papermill, which
hands it to nbclient as ``kernel_manager_class``) with

- an in-memory kernel spec whose command is ``setpriv --reuid --regid --init-groups
  --no-new-privs --inh-caps=-all -- <SMALLFRY_KERNEL_PYTHON> -m ipykernel_launcher -f
  <connection file>``. ``setpriv`` (util-linux) rather than ``runuser``: it changes the ids and
  then *execs* the kernel, so the process jupyter_client watches, signals (interrupts) and
  kills is the kernel itself; it opens no PAM session (works for locked accounts, adds no
  ``USER``/``SHELL``/pam_env variables) and leaves the environment exactly as given; and
  ``--no-new-privs`` stops a setuid program started from the notebook (``sudo``, ``su``) from
  gaining privileges. ``os.setuid`` in a ``preexec_fn`` is not safe in a process with threads
  (nbclient runs an event loop; Airflow has threads) and cannot set no-new-privs.
- the kernel's whole environment passed as ``env``: PATH (the venv's ``bin`` first), the
  account's HOME, LANG, the run-as keys the runner computed, the worker's region and endpoint
  settings (not secrets), ``AWS_EC2_METADATA_DISABLED=true``. jupyter_client itself adds only
  ``JPY_PARENT_PID`` (so the kernel exits if the task dies).
- a launch folder: a fresh root-owned folder (mode 0711, so the account can pass through but
  neither list nor change it) holding the connection file (written by root, then given to the
  account, 0600) and ``work/`` (the kernel's working folder, owned by the account, 0700). The
  account cannot swap either for a symlink under root's feet; jupyter_client writes the
  connection file by unlink-then-create, which would follow a symlink the account planted in
  a folder it could write. Papermill's own input and output notebooks stay in the runner's
  root-only folder for the same reason. All of it is removed after the run.

Before any of that, :func:`prepare` checks the account (exists, uid 1000-59999, not root's
group) and starts the interpreter once as the owner, the way the kernel will start, to see
that it runs and has ipykernel; a refusal is a :class:`KernelAccountError` that the runner
writes into run.json, and nothing of the notebook runs.

Nothing here imports Airflow or Jupyter server code; the runner uses it in every process.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager

from .. import kernel_env as kernel_env_names

#: Turns the mode on (``1``/``true``/``yes``), in the environment of the Airflow task.
ENABLE_ENV = "SMALLFRY_KERNEL_AS_OWNER"
#: The interpreter that runs the kernel: the users' venv's ``bin/python``.
PYTHON_ENV = "SMALLFRY_KERNEL_PYTHON"
#: Accounts the kernel may run as: regular users, never root or system accounts.
MIN_UID, MAX_UID = 1000, 59999
#: Owner names the Hub creates accounts for.
OWNER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: Kernel names the mode can serve: it always starts ipykernel from ``SMALLFRY_KERNEL_PYTHON``.
PYTHON_KERNELS = ("python3", "python")
#: Worker settings that reach the kernel: where AWS is, never who the worker is on it.
_PASSED = re.compile(
    rf"^(AWS_DEFAULT_REGION|AWS_ENDPOINT_URL(_[A-Z0-9_]+)?|{kernel_env_names.CONNECTIONS})$"
)
#: Where ``setpriv`` is looked for (never the task's own PATH).
_SYSTEM_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"


class KernelAccountError(RuntimeError):
    """The kernel cannot run as the job owner's account; nothing was started."""


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``SMALLFRY_KERNEL_AS_OWNER`` asks for kernels as the owner's account."""
    return environ.get(ENABLE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class OwnerKernel:
    """What it takes to start one run's kernel as its owner: checked, ready to launch."""

    owner: str
    uid: int
    gid: int
    home: str
    python: str
    setpriv: str
    env: dict = field(repr=False)  # holds the run-as keys: never in a repr or a log

    def command(self) -> list[str]:
        """The kernel command, with jupyter_client's ``{connection_file}`` placeholder."""
        return [
            self.setpriv,
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--init-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--",
            self.python,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]


def prepare(
    owner: str,
    kernel_name: str,
    kernel_env: Mapping[str, str] | None,
    environ: Mapping[str, str] = os.environ,
) -> OwnerKernel | None:
    """The checked kernel launch for ``owner``, or None when the mode is off.

    Raises :class:`KernelAccountError` with a message for run.json when the mode is on but the
    kernel cannot run as the owner: no such account, a uid outside 1000-59999 (root, system
    accounts), root's group, no usable interpreter, a kernel that is not Python, a worker that
    is not root.
    """
    if not enabled(environ):
        return None
    if kernel_name not in PYTHON_KERNELS:
        raise KernelAccountError(
            f"the notebook's kernel is {kernel_name!r}, but on this platform scheduled "
            f"notebooks run in the users' Python kernel ({PYTHON_KERNELS[0]}); open the "
            "notebook, pick that kernel, save and schedule it again"
        )
    account = check_account(owner)
    python = check_python(environ.get(PYTHON_ENV, ""), account)
    setpriv = shutil.which("setpriv", path=_SYSTEM_PATH)
    if not setpriv:
        raise KernelAccountError(
            "setpriv (util-linux) is not installed on the worker; it is needed to start "
            "kernels as their owner's account"
        )
    if os.geteuid() != 0:
        raise KernelAccountError(
            f"the worker runs as uid {os.geteuid()}, not root, so it cannot start the kernel "
            f"as {owner!r}; run Airflow as root or turn {ENABLE_ENV} off"
        )
    kernel = OwnerKernel(
        owner=owner,
        uid=account.pw_uid,
        gid=account.pw_gid,
        home=account.pw_dir,
        python=python,
        setpriv=setpriv,
        env=kernel_environment(account, python, kernel_env, environ),
    )
    _probe(kernel)
    return kernel


#: Run as the owner before the kernel: finds ipykernel without importing it (a few ms).
_PROBE = (
    "import importlib.util, sys; "
    "sys.exit(0 if importlib.util.find_spec('ipykernel_launcher') else 3)"
)


def _probe(kernel: OwnerKernel) -> None:
    """Start the interpreter the way the kernel will start, so a wrong setting fails with
    words (not jupyter_client's "Kernel died before replying to kernel_info")."""
    command = kernel.command()
    prefix = command[: command.index("--") + 1]
    try:
        proc = subprocess.run(
            [*prefix, kernel.python, "-c", _PROBE],
            env=kernel.env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise KernelAccountError(
            f"{kernel.python} did not start within 60 s as {kernel.owner!r}"
        ) from None
    if proc.returncode == 3:
        raise KernelAccountError(
            f"{kernel.python} has no ipykernel; {PYTHON_ENV} must name the users' environment's "
            "bin/python"
        )
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise KernelAccountError(
            f"{kernel.python} cannot start as the account {kernel.owner!r}: {said[:500]}"
        )


def check_account(owner: str) -> pwd.struct_passwd:
    """The owner's Unix account, if a kernel may run as it; else :class:`KernelAccountError`."""
    if not isinstance(owner, str) or not OWNER_NAME.match(owner):
        raise KernelAccountError(
            f"the job owner {owner!r} is not a user name this platform creates accounts for"
        )
    try:
        account = pwd.getpwnam(owner)
    except KeyError:
        raise KernelAccountError(
            f"kernels run as the job owner's Unix account, and there is no account named "
            f"{owner!r} on this machine; the Hub creates it when {owner} first logs in, or an "
            "administrator can create it"
        ) from None
    if account.pw_uid == 0 or not MIN_UID <= account.pw_uid <= MAX_UID:
        raise KernelAccountError(
            f"the account {owner!r} has uid {account.pw_uid}; kernels run only as user "
            f"accounts with a uid from {MIN_UID} to {MAX_UID}, never as root or a system account"
        )
    if account.pw_gid == 0:
        raise KernelAccountError(
            f"the account {owner!r} has root's group as its primary group; kernels do not run "
            "with it"
        )
    return account


def check_python(python: str, account: pwd.struct_passwd) -> str:
    """``python`` if it is an absolute path the account may execute."""
    if not python:
        raise KernelAccountError(
            f"{ENABLE_ENV} is on but {PYTHON_ENV} is not set; set it to the users' "
            "environment's bin/python"
        )
    if not os.path.isabs(python):
        raise KernelAccountError(f"{PYTHON_ENV} must be an absolute path, not {python!r}")
    real = os.path.realpath(python)
    if not os.path.isfile(real):
        raise KernelAccountError(f"{PYTHON_ENV} names {python}, which is not a file")
    for path in {python, real}:
        blocked = _first_blocked(Path(path), account)
        if blocked is not None:
            raise KernelAccountError(
                f"the account {account.pw_name!r} cannot run {python}: {blocked} is not "
                "reachable for it; use the users' environment (world-readable), not the "
                "worker's"
            )
    return python


def kernel_environment(
    account: pwd.struct_passwd,
    python: str,
    kernel_env: Mapping[str, str] | None,
    environ: Mapping[str, str] = os.environ,
) -> dict:
    """The kernel's whole environment: built from nothing, never a copy of the worker's."""
    env = {
        "PATH": f"{os.path.dirname(python)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": account.pw_dir,
        "LANG": environ.get("LANG") or "C.UTF-8",
        "AWS_EC2_METADATA_DISABLED": "true",  # no falling back to the worker's instance role
    }
    env.update({k: v for k, v in environ.items() if _PASSED.match(k) and v})
    # The run-as role's keys and ARN: what the runner computed for this very kernel.
    env.update({k: str(v) for k, v in (kernel_env or {}).items()})
    return env


def _first_blocked(path: Path, account: pwd.struct_passwd) -> Path | None:
    """The first folder on the way to ``path`` (or ``path`` itself) the account cannot use."""
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    for part in [*reversed(path.parents), path]:
        try:
            info = os.stat(part)
        except OSError:
            return part
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid == account.pw_uid:
            allowed = mode >> 6
        elif info.st_gid in groups:
            allowed = mode >> 3
        else:
            allowed = mode
        if not allowed & 0o1:  # search a folder, execute the file
            return part
    return None


class OwnerKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel as :attr:`run_kernel`'s account.

    nbclient builds its kernel manager from a class (``kernel_manager_class(kernel_name=…,
    config=…)``), so one run's settings travel as class attributes of a subclass made by
    :func:`launch_folder`.
    """

    #: The checked launch of this run (set on the per-run subclass).
    run_kernel: OwnerKernel | None = None
    #: Where the connection file goes (in the root-owned launch folder).
    run_connection_file: str = ""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.run_kernel is None:
            raise TypeError("make the class with kernel_as_owner.launch_folder()")
        self.connection_file = self.run_connection_file
        # Set after super().__init__: setting kernel_name there clears a cached spec. The
        # kernel never comes from the worker's kernel specs (they point into its own venv).
        self._kernel_spec = KernelSpec(
            argv=self.run_kernel.command(),
            display_name=f"Python 3 ({self.run_kernel.owner})",
            language="python",
            interrupt_mode="signal",
            env={},
            metadata={},
        )

    async def _async_pre_start_kernel(self, **kw):
        # Start and restart both pass through here; whatever env a caller gave (or the
        # worker's os.environ, jupyter_client's default) is replaced by the owner's.
        kw["env"] = dict(self.run_kernel.env)
        return await super()._async_pre_start_kernel(**kw)

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        # Root wrote it 0600; the kernel reads it as the owner.
        os.chown(self.connection_file, self.run_kernel.uid, self.run_kernel.gid)


@contextlib.contextmanager
def launch_folder(kernel: OwnerKernel) -> Iterator[tuple[type[OwnerKernelManager], Path]]:
    """Yield ``(kernel_manager_class, work_dir)`` for one run; remove everything after."""
    top = Path(tempfile.mkdtemp(prefix="smallfry-kernel-"))
    try:
        account = pwd.getpwuid(kernel.uid)
        blocked = _first_blocked(top.parent, account)
        if blocked is not None:
            raise KernelAccountError(
                f"the account {kernel.owner!r} cannot reach the temporary folder {top.parent} "
                f"({blocked} is closed to it); point TMPDIR of the worker at a folder every "
                "account can traverse, such as /tmp"
            )
        os.chmod(top, 0o711)  # the account passes through; only root lists or writes here
        work = top / "work"
        work.mkdir(mode=0o700)
        os.chown(work, kernel.uid, kernel.gid)
        manager = type(
            "OwnerKernelManagerForRun",
            (OwnerKernelManager,),
            {"run_kernel": kernel, "run_connection_file": str(top / "kernel.json")},
        )
        yield manager, work
    finally:
        shutil.rmtree(top, ignore_errors=True)
