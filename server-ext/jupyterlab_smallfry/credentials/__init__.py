"""Where AWS credentials come from: the one ``CredentialBroker`` of a Jupyter server."""

from .broker import AwsCredentials, CredentialBroker, CredentialError, Identity

__all__ = ["AwsCredentials", "CredentialBroker", "CredentialError", "Identity"]
