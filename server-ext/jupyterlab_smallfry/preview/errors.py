"""The one error type of the preview: an HTTP status and what to tell the user."""

from __future__ import annotations


class PreviewError(Exception):
    """A preview that cannot be made; ``field`` names the query parameter at fault, if any.

    Answered as ``{"message", "errors": [{"field", "message"}]}``, the shape of the other
    Small Fry endpoints, so the front end shows it the same way.
    """

    def __init__(self, status: int, message: str, field: str = ""):
        super().__init__(message)
        self.status = status
        self.field = field

    def to_json(self) -> dict:
        return {"message": str(self), "errors": [{"field": self.field, "message": str(self)}]}
