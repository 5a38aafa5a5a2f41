"""Table preview: the schema, metadata and first rows of a Parquet, CSV/TSV or JSON Lines
object, read on the server with pyarrow and the user's own keys, fetching only what it needs.

:func:`~.readers.preview` works on any :class:`~.sources.CountedFile`, so the catalog's
*Register as table* can infer a schema with ``preview(source, name, rows=0)``.
"""

from .errors import PreviewError
from .readers import format_of, preview
from .sources import CountedFile, S3Object, S3Reader, open_local, parse_s3_uri

__all__ = [
    "CountedFile",
    "PreviewError",
    "S3Object",
    "S3Reader",
    "format_of",
    "open_local",
    "parse_s3_uri",
    "preview",
]
