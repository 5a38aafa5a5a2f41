"""The managed AWS profile that gives kernels and terminals the owner's credentials.

The profile's ``credential_process`` runs ``python -m jupyterlab_smallfry.credential_process``,
which asks this server for the current keys. boto3, s3fs, pandas and the AWS CLI then refresh
by themselves, and no key is ever written to disk or put in an environment variable. The
profile lives in a private runtime folder (0700, files 0600), never in ``~/.aws``.

The helper proves it runs as this server's Unix user with a per-server kernel secret, kept
only in that folder's ``server.json``. It is not the Jupyter token: JupyterLab hands that to
every page, so any script in the browser has it, and it must not open the keys.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shlex
import shutil
import sys
from pathlib import Path

from ..logs import log

PROFILE = "smallfry"

#: Variables by which the user (or the image) has already chosen an AWS profile or config.
USER_CHOICE = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE")


class KernelProfile:
    """Writes the profile and points kernels at it, unless the user chose their own."""

    def __init__(self, runtime_dir: str, environ=os.environ):
        self._environ = environ
        self.folder = Path(runtime_dir) / f"smallfry-{os.getpid()}"
        self.config_file = self.folder / "aws-config"
        self.info_file = self.folder / "server.json"
        self.applied = False
        self.region = "us-east-1"
        #: What the helper presents to ``/smallfry/credentials/process``; new at every start.
        self.secret = secrets.token_urlsafe(32)
        self.chosen_by_user = next((v for v in USER_CHOICE if environ.get(v)), "")

    def install(self, server_url: str, region: str, s3_endpoint: str = "") -> None:
        """Write the files; set AWS_CONFIG_FILE/AWS_PROFILE for kernels if the user has not."""
        self.region = region
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        # The helper learns where the server is and the kernel secret from a file only this
        # Unix user can read (kernels and terminals run as that user; browser code cannot).
        _write_private(self.info_file, json.dumps({"url": server_url, "secret": self.secret}))
        _write_private(self.config_file, self.config_text(region, s3_endpoint))
        atexit.register(shutil.rmtree, self.folder, True)
        if self.chosen_by_user:
            log.info(
                "Small Fry: %s is set, so kernels keep the user's AWS profile; the managed "
                "profile is in %s",
                self.chosen_by_user,
                self.config_file,
            )
            return
        self._environ["AWS_CONFIG_FILE"] = str(self.config_file)
        self._environ["AWS_PROFILE"] = PROFILE
        self._environ.setdefault("AWS_SDK_LOAD_CONFIG", "1")  # AWS SDK for JavaScript v2
        self.applied = True

    def config_text(self, region: str, s3_endpoint: str = "") -> str:
        command = " ".join(
            shlex.quote(part)
            for part in (
                sys.executable,
                "-m",
                "jupyterlab_smallfry.credential_process",
                "--server-info",
                str(self.info_file),
            )
        )
        lines = [
            "# Managed by Small Fry for this Jupyter server; rewritten at every start.",
            f"[profile {PROFILE}]",
            f"credential_process = {command}",
            f"region = {region}",
        ]
        if s3_endpoint:
            lines += [f"services = {PROFILE}-endpoints", "", f"[services {PROFILE}-endpoints]"]
            lines += ["s3 =", f"  endpoint_url = {s3_endpoint}"]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict:
        return {
            "name": PROFILE,
            "applied": self.applied,
            "chosen_by_user": self.chosen_by_user,
            "snippet": self.cli_snippet(),
        }

    def cli_snippet(self) -> str:
        """What a user can paste into their own ~/.aws/config (nothing secret)."""
        return self.config_text(self.region).split("\n", 1)[1]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
