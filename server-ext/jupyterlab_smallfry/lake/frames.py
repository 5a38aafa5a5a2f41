"""DataFrame engines: pandas (the default) and polars (when installed), from Arrow and back."""

from __future__ import annotations

from .errors import LakeError, MissingPackage

ENGINES = ("pandas", "polars")


def need(module: str, what: str, requirement: str | None = None):
    """Import ``module`` or raise :class:`MissingPackage` naming the pip requirement."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingPackage(what, requirement or module) from None


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise LakeError(f"engine={engine!r}: choose one of {', '.join(ENGINES)}")
    if engine == "polars":
        need("polars", "engine='polars'")


def from_arrow(table, engine: str):
    """An Arrow table as the engine's DataFrame."""
    if engine == "polars":
        return need("polars", "engine='polars'").from_arrow(table)
    return table.to_pandas()


def to_arrow(df):
    """A pandas or polars DataFrame (or an Arrow table) as an Arrow table."""
    import pyarrow as pa

    if isinstance(df, pa.Table):
        return df
    module = type(df).__module__.split(".")[0]
    if module == "polars":
        return df.to_arrow()
    if module == "pandas":
        return pa.Table.from_pandas(df)
    raise LakeError(f"expected a pandas or polars DataFrame, got {type(df).__name__}")


def to_pandas(df):
    """A pandas DataFrame for the text and Excel writers."""
    module = type(df).__module__.split(".")[0]
    if module == "pandas":
        return df
    if module in ("polars", "pyarrow"):
        return df.to_pandas()
    raise LakeError(f"expected a pandas or polars DataFrame, got {type(df).__name__}")
