"""The AWS gateway: the browser's AWS SDK talks to the Jupyter server, which signs and forwards."""
