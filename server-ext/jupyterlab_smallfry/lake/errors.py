"""What the kernel library raises: one base class, and errors that say what to do.

Each error is also an instance of the built-in exception a Python user would expect
(``PermissionError``, ``FileNotFoundError``, ``LookupError``, ``ImportError``,
``ValueError``), so ``except PermissionError`` in a notebook keeps working.
"""

from __future__ import annotations


class LakeError(Exception):
    """Base class of every error ``smallfry`` raises on purpose."""


class AccessDenied(LakeError, PermissionError):
    """AWS refused a call; names who asked (``principal``), the ``action`` and the ``resource``."""

    def __init__(self, principal: str, action: str, resource: str, detail: str = ""):
        self.principal, self.action, self.resource = principal, action, resource
        message = (
            f"Access denied: {principal} may not {action} on {resource}. "
            "Ask your AWS admin to allow that action in your role's policy."
        )
        super().__init__(message + (f" (AWS said: {detail})" if detail else ""))


class NotFound(LakeError, FileNotFoundError):
    """No object or folder at an ``s3://`` URI (or a local path)."""


class NoSuchTable(LakeError, LookupError):
    """The Glue Data Catalog has no such database or table."""


class UnknownConnection(LakeError, LookupError):
    """``connect()`` was given a name the admin did not define."""


class MissingPackage(LakeError, ImportError):
    """An optional package is needed; the message names the pip requirement to install."""

    def __init__(self, what: str, requirement: str):
        self.requirement = requirement
        super().__init__(
            f"{what} needs the Python package {requirement!r}: pip install {requirement!r}"
        )


class BrokenFile(LakeError, ValueError):
    """An object could not be parsed in the format its name or the catalog says it has."""


class NotOnS3(LakeError):
    """``here()`` was called in a kernel whose notebook is not stored on S3."""
