"""Where AWS credentials come from: the one ``CredentialCache`` of a Jupyter server.

"Broker" in this package means only the ``broker`` mode, which asks the Small Fry broker
service on the Hub (``hub/broker.py``); the in-process cache is the ``CredentialCache``.
"""

from .cache import AwsCredentials, CredentialCache, CredentialError, Identity

__all__ = ["AwsCredentials", "CredentialCache", "CredentialError", "Identity"]
