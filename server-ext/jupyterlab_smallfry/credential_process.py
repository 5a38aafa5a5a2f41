"""The AWS ``credential_process`` helper: asks this user's Jupyter server for current keys.

Run by botocore (boto3, s3fs, pandas), the AWS CLI and other SDKs through the managed
profile. It presents the server's kernel secret from ``server.json`` (private to this Unix
user) in its own header; no Jupyter or Hub token is sent. Prints the Version 1 JSON on
stdout. On failure it exits 1 with one plain line on stderr that never contains a key or a
secret (SDKs may log stderr).

    python -m jupyterlab_smallfry.credential_process --server-info <runtime>/server.json
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

from .contract import server_path

#: The header that carries the kernel secret (the server reads it under this name).
SECRET_HEADER = "X-Smallfry-Kernel-Secret"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib sends custom headers on to a redirect's target: never follow one."""

    def redirect_request(self, *args, **kwargs):
        return None


#: The server is this machine's (its own bind URL): no proxy from the environment may see the
#: secret, and no redirect may carry it elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def fetch(server_info: str, timeout: float = 60) -> dict:
    with open(server_info) as handle:
        info = json.load(handle)
    request = urllib.request.Request(
        info["url"].rstrip("/") + "/" + server_path("credentials_process"),
        headers={SECRET_HEADER: info["secret"]},
    )
    with _OPENER.open(request, timeout=timeout) as response:
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
        print(
            f"Small Fry: the Jupyter server did not answer ({type(err).__name__})", file=sys.stderr
        )
        return 1
    json.dump(reply, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
