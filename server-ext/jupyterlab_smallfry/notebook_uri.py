"""Tell a kernel which S3 notebook it runs for: ``SMALLFRY_NOTEBOOK_URI=s3://bucket/key``.

JupyterLab names a notebook's session after its contents path; in the S3 browser that is
``S3:<root>/<rest>``, where ``<root>`` is a pinned root's display name (``c.SmallFry.roots``)
or, for buckets shown from ListBuckets, the bucket's name (with " (2)" when a pinned root has
it); ``drive_roots`` maps it back by the rule the browser names roots with. The kernel gets
the object's URI in its environment when it starts, so code can read data beside its
notebook. A kernel keeps the URI it started with; after a rename, restart the kernel.
"""

from __future__ import annotations

from . import kernel_env
from .drive_roots import s3_uri_of

__all__ = ["ENV", "install", "s3_uri_of"]

#: The kernel environment variable.
ENV = kernel_env.NOTEBOOK_URI


def install(session_manager, config) -> None:
    """Add the variable to the environment the session manager gives new kernels."""
    plain = session_manager.get_kernel_env

    def get_kernel_env(path, name=None):
        env = plain(path, name)
        # JupyterLab starts a session at "<folder>/<random id>" and names it after the
        # notebook, then renames it: the notebook is the folder plus the name.
        notebook = f"{path.rpartition('/')[0]}/{name}" if path and name else path
        uri = s3_uri_of(notebook, config.roots, config.list_all_buckets)
        return {**env, ENV: uri} if uri else env

    session_manager.get_kernel_env = get_kernel_env
