"""Entry point of the embedded S3 process: ``python -m jupyterlab_smallfry.embedded.child PORT``.

Runs moto's S3/STS/IAM server on 127.0.0.1 and exits as soon as its standard input closes,
which happens when the Jupyter server that started it exits, even if it was killed.
"""

import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
    server.start()
    try:
        sys.stdin.buffer.read()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
