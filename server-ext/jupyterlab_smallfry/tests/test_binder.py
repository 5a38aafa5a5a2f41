"""Binder's steps (binder/postBuild) in a fresh virtual environment give a working demo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .processes import _stop, free_port, wait_for_url

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.timeout(1200)
def test_binder_post_build_gives_jupyterlab_with_smallfry_and_the_demo_bucket(tmp_path):
    if not (REPO / "server-ext/jupyterlab_smallfry/labextension/package.json").exists():
        pytest.fail(
            "Build the front end first (npm ci && npm run build:prod): Binder ships it built"
        )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "JUPYTER", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    env.update(
        HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(venv)
    )
    build = subprocess.run(
        ["bash", str(REPO / "binder/postBuild")],
        env=env,
        capture_output=True,
        text=True,
        check=False,  # asserted below, with the output in the message
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    port, token = free_port(), "binder-check-token"
    with open(tmp_path / "lab.log", "wb") as log:  # the server keeps its own handle
        lab = subprocess.Popen(
            [
                str(venv / "bin/jupyter"),
                "lab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={home}",
            ],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    auth = {"Authorization": f"token {token}"}
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for_url(f"{base}api/status", lab, timeout=120, headers=auth)
        page = requests.get(f"{base}lab", headers=auth).text
        config = json.loads(
            re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.DOTALL).group(1)
        )
        names = [ext["name"] for ext in config["federated_extensions"]]
        assert "jupyterlab-smallfry" in names
        listing = requests.get(
            f"{base}smallfry/aws/s3/smallfry-demo?list-type=2&prefix=notebooks/", headers=auth
        )
        assert listing.status_code == 200
        assert "notebooks/sales-report.ipynb" in listing.text
    finally:
        _stop(lab)
