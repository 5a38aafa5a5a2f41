"""Names of the environment variables Small Fry gives kernels, read by ``import smallfry``.

The server (or a scheduled run's runner) sets them; the kernel library (:mod:`.lake`) reads
them. Kept in this tiny module so both sides import the name without importing each other.
"""

#: The ``s3://`` URI of the notebook a kernel was started for (see :mod:`.notebook_uri`).
NOTEBOOK_URI = "SMALLFRY_NOTEBOOK_URI"
#: A scheduled run's parameters, as JSON (the same values papermill injects).
PARAMETERS = "SMALLFRY_PARAMETERS"
#: ``c.SmallFry.connections`` as JSON: names and URLs, never a password.
CONNECTIONS = "SMALLFRY_CONNECTIONS"
