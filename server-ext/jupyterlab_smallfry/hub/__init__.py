"""Hub-side pieces of Small Fry: the credential broker service and the token refresh hook.

These run in (or next to) JupyterHub, never in a user's server. See ``examples/`` for a
complete ``jupyterhub_config.py`` per credentials mode and the matching IAM policies.
"""
