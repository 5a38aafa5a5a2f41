"""A private PostgreSQL cluster in one folder, for Airflow's metadata database.

Airflow with more than one process (scheduler, API server, DAG processor) needs a real
database; SQLite locks up under the LocalExecutor. This module runs Debian's (or any) PostgreSQL
binaries on a folder of ours, bound to 127.0.0.1 only:

- the cluster lives in ``<folder>/data``, its Unix socket and log in ``<folder>``;
- PostgreSQL refuses to run as root, so when we are root the server runs as the ``postgres``
  Unix user (``$SMALLFRY_PG_USER`` names another one) and the folder is handed to that user;
- local socket connections are trusted (the folder is mode 0700, so only that user and root
  reach the socket); TCP connections need a password (scram-sha-256);
- :meth:`PostgresCluster.create_database` makes a role and a database with a generated
  password, kept in ``<folder>/<role>.password`` (mode 0600) so a restart reuses it.

Starting on a folder that already holds a cluster reuses it; starting one that is already
running on the same port is a no-op.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

#: Where Debian's ``postgresql-NN`` packages put the server binaries.
DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Unix socket paths are limited to 107 bytes on Linux.
_SOCKET_MAX = 107


class PostgresError(RuntimeError):
    """PostgreSQL could not be found, initialised, started or set up; the message says why."""


def find_bin_dir() -> Path:
    """The folder with ``initdb``, ``pg_ctl`` and ``psql``.

    ``$SMALLFRY_PG_BIN`` wins; then the folder ``pg_ctl`` on ``PATH`` really lives in (Debian
    only links a few binaries into ``PATH``, and its ``psql`` is a wrapper); then the newest
    ``/usr/lib/postgresql/<version>/bin``.
    """
    if os.environ.get("SMALLFRY_PG_BIN"):
        return Path(os.environ["SMALLFRY_PG_BIN"])
    candidates = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def version(p: Path):
        try:
            return int(p.parent.name)
        except ValueError:
            return 0

    candidates += sorted(Path("/").glob(DEBIAN_GLOB.lstrip("/")), key=version, reverse=True)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return folder
    raise PostgresError(
        "PostgreSQL's server binaries (initdb, pg_ctl, postgres, psql) were not found on PATH or "
        f"in {DEBIAN_GLOB}. Install them (Debian: apt-get install postgresql) or set "
        "SMALLFRY_PG_BIN to their folder."
    )


class PostgresCluster:
    """One private cluster in ``folder``, listening on 127.0.0.1:``port``.

    ``durable=False`` turns fsync off: for tests and throw-away demos only.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        port: int,
        *,
        bin_dir: str | os.PathLike | None = None,
        durable: bool = True,
    ):
        self.folder = Path(folder).resolve()
        self.port = int(port)
        self.bin_dir = Path(bin_dir) if bin_dir else find_bin_dir()
        self.durable = durable
        self.data_dir = self.folder / "data"
        self.log_path = self.folder / "postgres.log"
        self._run_as = self._unprivileged_user()

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        """Initialise the cluster if the folder has none, then start it (idempotent)."""
        if len(str(self.folder)) + len(f"/.s.PGSQL.{self.port}") > _SOCKET_MAX:
            raise PostgresError(
                f"the folder {self.folder} is too long a path for PostgreSQL's Unix socket; "
                "use a shorter one"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.folder)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        running = self._running_port()
        if running == self.port:
            return self
        if running is not None:
            raise PostgresError(
                f"the cluster in {self.data_dir} is already running on port {running}, "
                f"not {self.port}; stop it first"
            )
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-k {shlex.quote(str(self.folder))}",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        proc = self._as_owner(
            [
                str(self.bin_dir / "pg_ctl"),
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                " ".join(options),
                "start",
            ]
        )
        if proc.returncode != 0:
            raise PostgresError(
                f"PostgreSQL did not start (pg_ctl exited {proc.returncode}): "
                f"{proc.stdout[-1500:]}{proc.stderr[-1500:]}\n{self.log_tail()}"
            )
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended, data is kept)."""
        if self._running_port() is None:
            return
        proc = self._as_owner(
            [
                str(self.bin_dir / "pg_ctl"),
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-m",
                "fast",
                "stop",
            ]
        )
        if proc.returncode != 0 and self._running_port() is not None:
            raise PostgresError(f"PostgreSQL did not stop: {proc.stderr[-1500:]}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- databases ------------------------------------------------------------------------

    def create_database(self, name: str = "airflow", role: str | None = None) -> str:
        """Make sure ``role`` (default: ``name``) and database ``name`` exist, the role owning
        the database and logging in with its generated password; returns the SQLAlchemy URL
        (``postgresql+psycopg2://role:password@127.0.0.1:port/name``). Idempotent."""
        role = role or name
        for value in (name, role):
            if not _NAME.match(value):
                raise PostgresError(f"{value!r} is not a plain lower-case PostgreSQL name")
        password = self._password_for(role)
        # Names and the password go in as psql variables, quoted by psql (:'x' and :"x"); the
        # script is read from stdin, so the password never shows in a process listing.
        script = "\n".join(
            [
                f"\\set role '{role}'",
                f"\\set db '{name}'",
                f"\\set password '{password}'",
                (
                    "SELECT format('CREATE ROLE %I LOGIN', :'role') "
                    "WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec"
                ),
                "ALTER ROLE :\"role\" WITH LOGIN PASSWORD :'password';",
                (
                    "SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') "
                    "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec"
                ),
                "",
            ]
        )
        self.psql(script)
        return f"postgresql+psycopg2://{role}:{password}@127.0.0.1:{self.port}/{name}"

    def psql(self, script: str, database: str = "postgres") -> str:
        """Run an SQL script as the cluster's superuser over the Unix socket; returns stdout."""
        proc = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.folder),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
            ],
            input=script,
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )
        if proc.returncode != 0:
            raise PostgresError(f"psql failed: {proc.stderr.strip()[-1500:]}")
        return proc.stdout

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # -- internals ------------------------------------------------------------------------

    def _password_for(self, role: str) -> str:
        path = self.folder / f"{role}.password"
        if path.exists():
            return path.read_text().strip()
        password = secrets.token_urlsafe(24)  # [A-Za-z0-9_-]: safe in a URL and in psql quotes
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(password + "\n")
        return password

    def _initdb(self) -> None:
        # Password auth over TCP needs a superuser password at initdb time; nobody uses it (the
        # superuser comes in over the socket), so it is random and thrown away.
        with tempfile.NamedTemporaryFile("w", dir=self.folder, delete=False) as pw:
            pw.write(secrets.token_urlsafe(24) + "\n")
        self._hand_over(Path(pw.name), recursive=False)
        try:
            proc = self._as_owner(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pw.name}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            os.unlink(pw.name)
        if proc.returncode != 0:
            raise PostgresError(
                f"initdb failed in {self.data_dir}: {proc.stdout[-1500:]}{proc.stderr[-1500:]}"
            )

    def _running_port(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        status = self._as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"])
        if status.returncode != 0:
            return None  # a stale pid file from a crash; pg_ctl start copes with it
        try:
            return int(pid_file.read_text().splitlines()[3])
        except (OSError, IndexError, ValueError):
            return None

    @staticmethod
    def _unprivileged_user() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        name = os.environ.get("SMALLFRY_PG_USER", "postgres")
        try:
            return pwd.getpwnam(name)
        except KeyError:
            raise PostgresError(
                f"PostgreSQL cannot run as root and there is no Unix user {name!r} to run it as; "
                "install Debian's postgresql package (it creates 'postgres'), create a user, or "
                "set SMALLFRY_PG_USER"
            ) from None

    def _hand_over(self, path: Path, recursive: bool = True) -> None:
        """Give ``path`` to the user the server runs as (only needed when we are root)."""
        if self._run_as is None:
            if path.is_dir():
                path.chmod(0o700)
            return
        uid, gid = self._run_as.pw_uid, self._run_as.pw_gid
        targets = [path]
        if recursive and path.is_dir():
            targets += list(path.rglob("*"))
        for target in targets:
            if target.suffix == ".password":
                continue  # our secrets stay ours
            os.chown(target, uid, gid, follow_symlinks=False)
        if path.is_dir():
            path.chmod(0o700)
        probe = self._as_owner(["test", "-w", str(self.folder)])
        if probe.returncode != 0:
            raise PostgresError(
                f"the Unix user {self._run_as.pw_name!r} cannot reach {self.folder}: a parent "
                "folder is closed to it; choose a folder under /tmp or /var/lib"
            )

    def _as_owner(self, args: list[str]) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self._run_as is not None:
            kwargs = {
                "user": self._run_as.pw_uid,
                "group": self._run_as.pw_gid,
                "extra_groups": [],
            }
            env.update(
                HOME=str(self.folder), USER=self._run_as.pw_name, LOGNAME=self._run_as.pw_name
            )
        return subprocess.run(
            args,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.folder,
            env=env,
            **kwargs,
        )
