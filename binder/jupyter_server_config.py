# The embedded default: JupyterLab with Small Fry on a local S3-compatible server seeded with
# demo notebooks. Used by the README's demo command and by Binder (postBuild installs it).
c = get_config()  # noqa: F821

c.SmallFry.embedded = True
c.ServerApp.default_url = "/lab"
