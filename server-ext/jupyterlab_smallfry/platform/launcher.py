"""``smallfry-platform``: a small team's notebook platform on one Linux machine, one command.

It starts, in this order, and stops in reverse:

1. PostgreSQL (Debian's binaries; a private cluster in the state folder) for Airflow;
2. Airflow 3 in its own pinned venv: API server (UI, REST API, OIDC login), scheduler,
   DAG processor and triggerer, LocalExecutor, the Small Fry DAG factory reading the jobs
   folder, only specs the Small Fry service signed, each user seeing only their own DAGs;
3. the users' Python environment (every Unix account can run it);
4. JupyterHub with configurable-http-proxy and OIDC login, each user's server running as
   that user's own Unix account in ``broker`` mode, and the Small Fry Hub service: the one
   writer of job specs, snapshots and *Run now*, and the source of users' AWS keys.

Settings come from a TOML file (``smallfry-platform example`` prints a commented one). The
state folder keeps everything between restarts; ``secrets/`` inside it is readable by root
only and holds the spec-signing key, the Hub's encryption key and the service's Airflow
password, all generated on the first start.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

EXAMPLE = Path(__file__).with_name("platform.example.toml")


class PlatformError(RuntimeError):
    """A setting is missing or a part failed to start; the message says which."""


def load_settings(path: str | os.PathLike) -> dict:
    import tomllib

    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _need(section: dict, key: str, where: str):
    value = section.get(key)
    if value in (None, "", [], {}):
        raise PlatformError(f"{where}.{key} is required (see `smallfry-platform example`)")
    return value


def _port(url: str, default: int) -> int:
    return urlparse(url).port or default


def _write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path


class Platform:
    """The running platform for one settings dict; ``start()``/``stop()`` or ``with``."""

    def __init__(self, settings: dict, log=print):
        self.settings = settings
        self.log = log
        self.state = Path(_need(settings, "state_dir", "")).resolve()
        self.public_url = settings.get("public_url", "http://127.0.0.1:8000").rstrip("/")
        airflow = settings.get("airflow", {})
        self.airflow_url = airflow.get("public_url", "http://127.0.0.1:8080").rstrip("/")
        self.idp = _need(settings, "idp", "")
        self.aws = _need(settings, "aws", "")
        _need(self.idp, "well_known_url", "idp")
        _need(self.idp, "client_id", "idp")
        _need(self.aws, "runs_uri", "aws")
        self.jobs_dir = self.state / "jobs"
        self.secrets_dir = self.state / "secrets"
        self._stack = contextlib.ExitStack()
        self.postgres = None
        self.airflow = None
        self.hub_proc: subprocess.Popen | None = None

    # -- life cycle -------------------------------------------------------------------------

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> Platform:
        try:
            self._prepare_folders()
            self._build_user_env()
            self._start_postgres()
            self._start_airflow()
            self._start_hub()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the Hub (it stops users' servers, the proxy and the service), Airflow and
        PostgreSQL; safe to call twice."""
        self._stack.close()

    # -- parts --------------------------------------------------------------------------------

    def _prepare_folders(self) -> None:
        # The state folder is traversable (PostgreSQL runs as its own account, users run the
        # users' venv inside it). Jobs (everyone's parameters), Airflow's home (task logs hold
        # every run's output), the Hub's database and the secrets are root's alone: the
        # service and Airflow run as root, users' servers and job kernels as the users.
        for folder, mode in (
            (self.state, 0o755),
            (self.jobs_dir, 0o700),
            (self.state / "airflow", 0o700),
            (self.secrets_dir, 0o700),
            (self.state / "hub", 0o700),
        ):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(mode)
        key = self.secrets_dir / "spec-signing.key"
        if not key.exists():
            from ..hub.service import new_spec_key

            new_spec_key(key)
        crypt = self.secrets_dir / "hub-crypt.key"
        if not crypt.exists():
            _write_private(crypt, secrets.token_hex(32))

    def _build_user_env(self) -> None:
        """The Python every user's server and every job's kernel runs (all accounts can)."""
        from .user_env import default_source, ensure_user_env

        python = self.settings.get("python", {})
        source = python.get("smallfry_source") or default_source()
        if source is None:
            # Until jupyterlab-smallfry is on PyPI, users' servers install the wheel you built.
            raise PlatformError(
                "python.smallfry_source is required: the path of the jupyterlab-smallfry wheel "
                "you installed (users' servers install the same one)"
            )
        self.user_env_bin = ensure_user_env(
            python.get("user_env_base") or self.state / "user-envs",
            python=python.get("users", "/usr/bin/python3.11"),
            source=source,
            log=self.log,
        )

    @property
    def spec_key_file(self) -> Path:
        return self.secrets_dir / "spec-signing.key"

    def _client_secret(self) -> str:
        if self.idp.get("client_secret_file"):
            return Path(self.idp["client_secret_file"]).read_text().strip()
        return _need(self.idp, "client_secret", "idp")

    def _start_postgres(self) -> None:
        from .postgres import PostgresCluster

        port = int(self.settings.get("postgres_port", 5433))
        durable = bool(self.settings.get("postgres_durable", True))
        self.postgres = PostgresCluster(self.state / "postgres", port, durable=durable)
        self.log(f"PostgreSQL: starting on 127.0.0.1:{port}")
        self.postgres.start()
        self._stack.callback(self.postgres.stop)
        self.database_url = self.postgres.create_database("airflow")

    def _start_airflow(self) -> None:
        from .airflow_env import ensure_airflow_venv
        from .airflow_stack import AirflowSettings, AirflowStack

        airflow = self.settings.get("airflow", {})
        python = airflow.get("python") or ensure_airflow_venv(log=self.log)
        port = int(airflow.get("port") or _port(self.airflow_url, 8080))
        worker_env = {
            **self._endpoint_env(),
            # Each notebook's kernel runs as its owner's Unix account with a clean environment,
            # so it cannot read the signing key or Airflow's secrets (jobs/kernel_as_owner.py).
            "SMALLFRY_KERNEL_AS_OWNER": "1",
            "SMALLFRY_KERNEL_PYTHON": str(self.user_env_bin / "python"),
            **dict(self.aws.get("worker_env", {})),
        }
        worker_env.update(airflow.get("env", {}))
        self.airflow = AirflowStack(
            AirflowSettings(
                python=Path(python),
                home=self.state / "airflow",
                database_url=self.database_url,
                oidc_issuer=self.idp["well_known_url"],
                client_id=self.idp.get("airflow_client_id") or self.idp["client_id"],
                client_secret=self._client_secret(),
                admin_group=(self.idp.get("admin_groups") or ["platform-admins"])[0],
                jobs_dir=self.jobs_dir,
                port=port,
                public_url=self.airflow_url,
                spec_key_file=self.spec_key_file,
                parse_interval=int(airflow.get("parse_interval", 30)),
                extra_env=worker_env,
            )
        )
        self.log(f"Airflow: starting on {self.airflow_url}")
        self.airflow.start()
        self._stack.callback(self.airflow.stop)
        account = self.airflow.service_account
        self.airflow_password_file = _write_private(
            self.secrets_dir / "airflow-service.password", account.password
        )
        self.airflow_username = account.username

    def _endpoint_env(self) -> dict:
        env = {"AWS_DEFAULT_REGION": self.aws.get("region") or "us-east-1"}
        if self.aws.get("s3_endpoint_url"):
            env["AWS_ENDPOINT_URL_S3"] = self.aws["s3_endpoint_url"]
        if self.aws.get("sts_endpoint_url"):
            env["AWS_ENDPOINT_URL_STS"] = self.aws["sts_endpoint_url"]
        return env

    def _service_command(self, port: int) -> list[str]:
        aws = self.aws
        args = {
            "jobs_uri": str(self.jobs_dir),
            "runs_uri": aws["runs_uri"],
            "endpoint_url": aws.get("s3_endpoint_url", ""),
            "sts_endpoint_url": aws.get("sts_endpoint_url", ""),
            "region": aws.get("region", ""),
            "role_arn": aws.get("default_role", ""),
            "role_map": json.dumps(aws.get("role_map", {})),
            "spec_key_file": str(self.spec_key_file),
            "airflow_url": self.airflow.local_url,
            "airflow_username": self.airflow_username,
            "airflow_password_file": str(self.airflow_password_file),
            "port": str(port),
        }
        command = [sys.executable, "-m", "jupyterlab_smallfry.hub.service"]
        return command + [f"--SmallFryService.{k}={v}" for k, v in args.items() if v]

    def _start_hub(self) -> None:
        from .hub_config import CONFIG_FILE

        bin_dir = self.user_env_bin
        hub = self.settings.get("hub", {})
        service_port = int(hub.get("service_port", 8765))
        idp = {
            k: v
            for k, v in self.idp.items()
            if k not in ("client_secret_file", "airflow_client_id")
        }
        idp["client_secret"] = self._client_secret()
        settings = {
            "public_url": self.public_url,
            "data_dir": str(self.state / "hub"),
            "hub_bind_url": hub.get("bind_url", "http://127.0.0.1:8081"),
            "proxy_api_url": hub.get("proxy_api_url", "http://127.0.0.1:8001"),
            "proxy_command": hub.get("proxy_command", ["configurable-http-proxy"]),
            "oidc": idp,
            "users": hub.get("users", {}),
            "user_env_bin": str(bin_dir),
            "service": {
                "url": f"http://127.0.0.1:{service_port}",
                "command": self._service_command(service_port),
                "environment": {**self._endpoint_env(), **dict(self.aws.get("service_env", {}))},
            },
            "smallfry": {
                "s3_endpoint_url": self.aws.get("s3_endpoint_url", ""),
                "sts_endpoint_url": self.aws.get("sts_endpoint_url", ""),
                "region": self.aws.get("region", ""),
                # One flag per root: traitlets reads a repeated flag as a list.
                "args": [f"--SmallFry.roots={root}" for root in self.aws.get("roots", [])],
            },
        }
        settings_file = _write_private(
            self.secrets_dir / "hub-settings.json", json.dumps(settings, indent=2)
        )
        config = self.state / "hub" / "jupyterhub_config.py"
        lines = ["c = get_config()  # noqa: F821", f"load_subconfig({str(CONFIG_FILE)!r})"]
        if hub.get("extra_config"):
            lines.append(f"load_subconfig({str(hub['extra_config'])!r})")
        config.write_text("\n".join(lines) + "\n")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JUPYTERHUB_"))},
            "JUPYTERHUB_CRYPT_KEY": (self.secrets_dir / "hub-crypt.key").read_text().strip(),
            "SMALLFRY_HUB_SETTINGS": str(settings_file),
            **dict(hub.get("env", {})),
        }
        self.hub_log = self.state / "hub" / "jupyterhub.log"
        self.log(f"JupyterHub: starting on {self.public_url}")
        with open(self.hub_log, "ab") as log:
            self.hub_proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                env=env,
                cwd=self.state / "hub",
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._stack.callback(self._stop_hub)
        self._wait_for_hub(float(hub.get("start_timeout", 120)))

    def _wait_for_hub(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.hub_proc.poll() is not None:
                raise PlatformError(f"JupyterHub exited:\n{self.hub_log_tail()}")
            try:
                urllib.request.urlopen(f"{self.public_url}/hub/api", timeout=2)
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        raise PlatformError(f"JupyterHub did not answer in {timeout:.0f} s:\n{self.hub_log_tail()}")

    def hub_log_tail(self, chars: int = 4000) -> str:
        try:
            return self.hub_log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _stop_hub(self) -> None:
        proc = self.hub_proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # the Hub stops users' servers, proxy and service
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="smallfry-platform",
        description="JupyterHub, Airflow and the Small Fry Hub service for a team, on one machine.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start everything and run until Ctrl-C")
    up.add_argument("--config", required=True, help="the platform's TOML settings file")
    sub.add_parser("example", help="print a commented settings file to start from")
    args = parser.parse_args(argv)
    if args.command == "example":
        sys.stdout.write(EXAMPLE.read_text())
        return 0
    if os.geteuid() != 0:
        print("smallfry-platform up must run as root: it creates a Unix account per user "
              "and starts each user's server as that account.", file=sys.stderr)  # fmt: skip
        return 2
    try:
        platform = Platform(load_settings(args.config)).start()
    except PlatformError as err:
        print(f"smallfry-platform: {err}", file=sys.stderr)
        return 1
    print(f"\nSmall Fry platform is up.\n  JupyterHub: {platform.public_url}\n"
          f"  Airflow:    {platform.airflow_url}\nCtrl-C stops it.", flush=True)  # fmt: skip
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop and platform.hub_proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
