"""The AWS ``credential_process`` helper: asks this user's Jupyter server for current keys.

Run by botocore (boto3, s3fs, pandas), the AWS CLI and other SDKs through the managed
profile. Prints the Version 1 JSON on stdout. On failure it exits 1 with one plain line on
stderr that never contains a key or token (SDKs may log stderr).

    python -m jupyterlab_smallfry.credential_process --server-info <runtime>/server.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def fetch(server_info: str, timeout: float = 60) -> dict:
    with open(server_info) as handle:
        info = json.load(handle)
    token = os.environ.get("JUPYTERHUB_API_TOKEN") or info.get("token")
    request = urllib.request.Request(
        info["url"].rstrip("/") + "/smallfry/credentials/process",
        headers={"Authorization": f"token {token}"} if token else {},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jupyterlab_smallfry.credential_process")
    parser.add_argument("--server-info", required=True)
    args = parser.parse_args(argv)
    try:
        reply = fetch(args.server_info)
    except urllib.error.HTTPError as err:
        reason = f"HTTP {err.code}"
        try:
            body = json.load(err)
            reason = f"{body.get('code', reason)}: {body.get('message', '')}".strip()
        except ValueError:
            pass
        print(f"Small Fry: no AWS credentials ({reason})", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as err:
        print(f"Small Fry: the Jupyter server did not answer ({type(err).__name__})", file=sys.stderr)
        return 1
    json.dump(reply, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
