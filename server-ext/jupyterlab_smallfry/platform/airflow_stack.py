"""Airflow 3 for a team on one machine: single sign-on, per-user DAGs, a machine account.

:class:`AirflowStack` runs a real Airflow (its own virtual environment, given as its Python)
against a PostgreSQL database (see :mod:`.postgres`) with the LocalExecutor:

1. writes ``$AIRFLOW_HOME/webserver_config.py`` (a copy of ``airflow_webserver_config.py``:
   OIDC login through FAB, the ``SmallFryUser`` base role and per-owner roles) and the
   two-line DAG-folder file of the Small Fry DAG factory;
2. ``airflow db migrate``; then, in one FAB process, syncs the roles, creates the owner role of
   every owner folder already in the jobs folder (the DAG processor rejects a DAG whose
   ``access_control`` names a missing role) and the Hub service's machine account
   (role ``SmallFryService``, a generated password);
3. starts the API server, waits for ``/api/v2/monitor/health``, then the scheduler, the DAG
   processor and the triggerer, and waits until the health check reports them.

Settings go to Airflow as ``AIRFLOW__…`` environment variables (no airflow.cfg to drift).
Generated secrets (API secret key, JWT secret, the machine account's password) are kept in
``$AIRFLOW_HOME/smallfry-secrets.json`` (mode 0600), so a restart keeps sessions and the account.
Each process runs in its own process group with its output in ``$AIRFLOW_HOME/process-logs/``;
:meth:`AirflowStack.stop` ends the groups in reverse order.

Every DAG built by the factory carries ``access_control`` for its owner's role
(``SMALLFRY_AIRFLOW_ACCESS_CONTROL=owner``), so users see and trigger only their own jobs.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

from ..airflow import write_dag_files
from ..airflow.naming import owner_role
from ..jobs.store import owner_from_key

PACKAGE_DIR = Path(__file__).resolve().parents[1]
WEBSERVER_CONFIG = Path(__file__).with_name("airflow_webserver_config.py")
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SERVICE_ROLE = "SmallFryService"
WELL_KNOWN = "/.well-known/openid-configuration"


class AirflowStartError(RuntimeError):
    """A step of the start failed; the message names the step and ends with its output."""


@dataclass
class ServiceAccount:
    """The Hub service's Airflow account (a password user; see :mod:`.airflow_api`)."""

    username: str
    password: str = field(repr=False)


@dataclass
class AirflowSettings:
    """What :class:`AirflowStack` needs; the admin fills in the OIDC part."""

    python: Path  # the Airflow virtual environment's python
    home: Path  # AIRFLOW_HOME
    database_url: str  # SQLAlchemy URL, e.g. PostgresCluster.create_database()
    oidc_issuer: str  # the IdP's issuer URL or its /.well-known/openid-configuration URL
    client_id: str
    client_secret: str = field(repr=False)
    admin_group: str  # members of this `groups` claim value become Airflow Admins
    jobs_dir: Path  # <jobs>/<owner>/<job>.json, as the Hub service writes them
    port: int  # the API server's port (UI, REST API and execution API)
    host: str = "127.0.0.1"
    #: The URL browsers use for Airflow (behind a proxy: its public URL, path included);
    #: default http://host:port.
    public_url: str | None = None
    provider_name: str = "sso"  # in the IdP redirect URI: <public_url>/auth/oauth-authorized/sso
    service_user: str = "smallfry-hub"
    #: The Hub service's spec-signing key file (see jobs/signing.py): with it, only specs the
    #: service signed become jobs. Leave None only where users cannot write the jobs folder.
    spec_key_file: Path | None = None
    parallelism: int = 2
    #: How often each DAG file is parsed again (new or changed specs show up within this).
    parse_interval: int = 30
    extra_env: dict = field(default_factory=dict)

    @property
    def metadata_url(self) -> str:
        issuer = self.oidc_issuer.rstrip("/")
        return issuer if issuer.endswith(WELL_KNOWN) else issuer + WELL_KNOWN

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


_BOOTSTRAP = r"""
import json, sys
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

req = json.load(sys.stdin)
with get_application_builder() as appbuilder:
    sm = appbuilder.sm
    sm.sync_roles()
    for name in req["roles"]:
        sm.add_role(name)
    role = sm.find_role(req["service_role"])
    user = sm.find_user(username=req["username"])
    if user is None:
        user = sm.add_user(req["username"], "Small Fry", "Hub service", req["email"], [role],
                           password=req["password"])
        if not user:
            sys.exit("could not create the service account")
    else:
        user.roles = [role]
        user.active = True
        sm.update_user(user)
        sm.reset_password(user.id, req["password"])
print("ok")
"""


class AirflowStack:
    """Start and stop the Airflow processes for :class:`AirflowSettings`."""

    PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")

    def __init__(self, settings: AirflowSettings):
        self.settings = settings
        self.home = Path(settings.home).resolve()
        self.dags = self.home / "dags"
        self.logs = self.home / "process-logs"
        self.procs: dict[str, subprocess.Popen] = {}
        self._secrets: dict | None = None

    # -- public ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Airflow's base URL (UI at ``/``, REST API at ``/api/v2``)."""
        return self.settings.base_url

    @property
    def local_url(self) -> str:
        """The API server's URL on this machine (``base_url``'s path kept)."""
        path = urlparse(self.settings.base_url).path.rstrip("/")
        return f"http://127.0.0.1:{self.settings.port}{path}"

    @property
    def service_account(self) -> ServiceAccount:
        return ServiceAccount(self.settings.service_user, self.secrets["service_password"])

    def login_url(self, next_url: str = "/") -> str:
        """Where a browser starts the SSO login."""
        return f"{self.url}/auth/login/{self.settings.provider_name}?next={quote(next_url)}"

    def prepare(self) -> None:
        """Write the config and DAG-folder files, migrate the database, create the roles and the
        service account. Nothing keeps running afterwards."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.dags.mkdir(exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        Path(self.settings.jobs_dir).mkdir(parents=True, exist_ok=True)
        self._link_package()
        shutil.copyfile(WEBSERVER_CONFIG, self.home / "webserver_config.py")
        # One factory file per shard, so each parse stays short whatever the number of jobs.
        write_dag_files(self.dags, str(self.settings.jobs_dir))
        self.airflow("db", "migrate", timeout=300)
        self._bootstrap()

    def start(self, timeout: float = 240) -> AirflowStack:
        """:meth:`prepare`, then start the four processes; returns once the health check
        reports the scheduler, DAG processor and triggerer."""
        deadline = time.monotonic() + timeout
        try:
            self.prepare()
            self._spawn(
                "api-server",
                "api-server",
                "--host",
                self.settings.host,
                "--port",
                str(self.settings.port),
                "--workers",
                "1",
            )
            self._wait_healthy(deadline, components=())
            self._spawn("scheduler", "scheduler", "--skip-serve-logs")
            self._spawn("dag-processor", "dag-processor")
            self._spawn("triggerer", "triggerer", "--skip-serve-logs")
            self._wait_healthy(deadline, components=("scheduler", "dag_processor", "triggerer"))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 20) -> None:
        """End every process group (SIGTERM to all, last started first); SIGKILL what is
        still there after ``grace`` seconds."""
        procs = [self.procs.pop(name) for name in reversed(list(self.procs))]
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # Children (task runners, uvicorn workers) may outlive the leader: end the group.
            _signal_group(proc, signal.SIGKILL)
            proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self, name: str, chars: int = 4000) -> str:
        """The end of one process's output (``api-server``, ``scheduler``, …)."""
        try:
            return (self.logs / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def airflow(self, *args: str, timeout: float = 120, stdin: str | None = None) -> str:
        """Run an ``airflow`` CLI command with the stack's settings; returns its stdout."""
        return self._run([str(self.settings.python), "-m", "airflow", *args], timeout, stdin)

    # -- settings -------------------------------------------------------------------------

    @property
    def secrets(self) -> dict:
        if self._secrets is None:
            path = self.home / "smallfry-secrets.json"
            if path.exists():
                self._secrets = json.loads(path.read_text())
            else:
                self._secrets = {
                    "api_secret_key": secrets.token_urlsafe(64),
                    "jwt_secret": secrets.token_urlsafe(64),
                    "service_password": secrets.token_urlsafe(24),
                }
                self.home.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    json.dump(self._secrets, out)
        return self._secrets

    def environment(self, process: str = "cli") -> dict:
        """The environment of one process. The OIDC client secret goes only to the API server
        and the CLI: the scheduler's tasks inherit its environment."""
        s = self.settings
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("AIRFLOW", "VIRTUAL_ENV", "SMALLFRY_AIRFLOW", "PYTHON"))
            },
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__CORE__PARALLELISM": str(s.parallelism),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.local_url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": s.database_url,
            "AIRFLOW__API__HOST": s.host,
            "AIRFLOW__API__PORT": str(s.port),
            "AIRFLOW__API__BASE_URL": s.base_url + "/",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": self.secrets["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": self.secrets["jwt_secret"],
            "AIRFLOW__API_AUTH__JWT_ISSUER": s.base_url,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": str(s.parse_interval),
            "AIRFLOW__FAB__CONFIG_FILE": str(self.home / "webserver_config.py"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "SMALLFRY_JOBS_DIR": str(s.jobs_dir),
            "SMALLFRY_AIRFLOW_ACCESS_CONTROL": "owner",
            # Only our package (through a symlink), not the Jupyter environment's site-packages.
            "PYTHONPATH": str(self.home / "pythonpath"),
            "PATH": f"{Path(s.python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            **s.extra_env,
        }
        if s.spec_key_file:
            env["SMALLFRY_SPEC_KEY_FILE"] = str(s.spec_key_file)
        if process in ("api-server", "cli"):
            env.update(
                SMALLFRY_AIRFLOW_OIDC_METADATA_URL=s.metadata_url,
                SMALLFRY_AIRFLOW_OIDC_CLIENT_ID=s.client_id,
                SMALLFRY_AIRFLOW_OIDC_CLIENT_SECRET=s.client_secret,
                SMALLFRY_AIRFLOW_OIDC_NAME=s.provider_name,
                SMALLFRY_AIRFLOW_ADMIN_GROUP=s.admin_group,
            )
            if s.metadata_url.startswith("http://"):
                # Authlib refuses plain-http OAuth unless told; only test IdPs are on http.
                env["AUTHLIB_INSECURE_TRANSPORT"] = "1"
        return env

    # -- internals ------------------------------------------------------------------------

    def _link_package(self) -> None:
        folder = self.home / "pythonpath"
        folder.mkdir(exist_ok=True)
        link = folder / PACKAGE_DIR.name
        if link.is_symlink() and link.resolve() == PACKAGE_DIR:
            return
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(PACKAGE_DIR, target_is_directory=True)

    def _owner_roles(self) -> list[str]:
        jobs = Path(self.settings.jobs_dir)
        return sorted(
            {owner_role(owner_from_key(p.name)) for p in jobs.iterdir() if p.is_dir()}
            if jobs.is_dir()
            else set()
        )

    def _bootstrap(self) -> None:
        request = {
            "roles": self._owner_roles(),
            "service_role": SERVICE_ROLE,
            "username": self.settings.service_user,
            "email": f"{self.settings.service_user}@smallfry.invalid",
            "password": self.secrets["service_password"],
        }
        self._run(
            [str(self.settings.python), "-c", _BOOTSTRAP],
            180,
            json.dumps(request),
            label="bootstrap-roles-and-service-account",
        )

    def _run(
        self, args: list[str], timeout: float, stdin: str | None = None, label: str | None = None
    ) -> str:
        label = label or "-".join(a for a in args[3:5])
        proc = subprocess.run(
            args,
            env=self.environment("cli"),
            cwd=self.home,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (self.logs / f"cli-{label}.log").write_text(
            proc.stdout + "\n--- stderr ---\n" + proc.stderr
        )
        if proc.returncode != 0:
            raise AirflowStartError(
                f"{label} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
            )
        return proc.stdout

    def _spawn(self, name: str, *args: str) -> None:
        with open(self.logs / f"{name}.log", "ab") as out:
            self.procs[name] = subprocess.Popen(
                [str(self.settings.python), "-m", "airflow", *args],
                env=self.environment(name),
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, ended as one by stop()
            )

    def _wait_healthy(self, deadline: float, components: tuple[str, ...]) -> None:
        url = f"{self.local_url}/api/v2/monitor/health"
        last = "no answer yet"
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise AirflowStartError(
                        f"airflow {name} exited with {proc.returncode}:\n{self.log(name)}"
                    )
            try:
                with urllib.request.urlopen(url, timeout=3) as reply:
                    health = json.load(reply)
                states = {c: (health.get(c) or {}).get("status") for c in components}
                if all(state == "healthy" for state in states.values()):
                    return
                last = json.dumps(states)
            except (OSError, ValueError) as err:
                last = str(err)
            time.sleep(0.5)
        waiting = components or ("api-server",)
        raise AirflowStartError(
            f"Airflow was not healthy in time ({', '.join(waiting)}; last: {last}):\n"
            + "\n".join(f"--- {n} ---\n{self.log(n, 2000)}" for n in self.procs)
        )


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
