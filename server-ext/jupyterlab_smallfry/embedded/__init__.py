"""The embedded default: a local S3-compatible server with a seeded demo bucket."""

from .server import EmbeddedS3

__all__ = ["EmbeddedS3"]
