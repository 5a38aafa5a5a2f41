"""The Helm values in deploy/helm/, checked as far as a machine without Helm or a cluster can.

Rendering the charts is the user's ``helm template`` (no helm binary here); what is proven:

- every ``c.SmallFry.*`` line the z2jh values give users' servers is a real traitlet, and the
  config text loads through traitlets into a valid ``SmallFry`` (validators included);
- every ``--SmallFryService.*`` argument of the service's Deployment is a real setting;
- every image the values name is one deploy/images/ builds (name and version), apart from a
  short list of upstream images named here with the reason;
- every Kubernetes object the files hold verbatim, and the pod fragments the values hand to
  the charts (containers, volumes, env, network-policy rules), validate against the
  Kubernetes OpenAPI schemas;
- the pieces that must agree do: the Airflow DAG file is the factory's own, the spec-signing
  key is mounted where SMALLFRY_SPEC_KEY_FILE points, the OIDC settings the package's
  webserver_config reads are all set, the servers call the service where it listens.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from traitlets.config import Config, PyFileConfigLoader

from ..airflow import dag_folder_file
from ..config import SmallFry
from ..hub.service import SmallFryService
from .pod_manifest import validate as validate_manifest

ROOT = Path(__file__).resolve().parents[3]
HELM = ROOT / "deploy" / "helm"
IMAGES = ROOT / "deploy" / "images"
HUB_VALUES = HELM / "jupyterhub" / "values.yaml"
SERVICE_MANIFEST = HELM / "jupyterhub" / "smallfry-service.yaml"
AIRFLOW_VALUES = HELM / "airflow" / "values.yaml"

#: Images the values name that are not ours, and why that is fine.
UPSTREAM_IMAGES = {
    # The spec sync beside the DAG processor only runs `aws s3 sync`; AWS's own CLI image.
    "public.ecr.aws/aws-cli/aws-cli": "the AWS CLI for the spec sync sidecar",
}


def validate(obj: dict, namespace: str = "jupyterhub") -> None:
    """The job pod's check (OpenAPI schema, strict, plus the API server's name rules), for an
    object applied with ``kubectl apply -n <namespace>`` (which sets its namespace)."""
    obj = json.loads(json.dumps(obj))
    obj["metadata"].setdefault("namespace", namespace)
    validate_manifest(obj)


def load(path: Path):
    return yaml.safe_load(path.read_text())


def service_objects() -> list[dict]:
    return [doc for doc in yaml.safe_load_all(SERVICE_MANIFEST.read_text()) if doc]


def service_deployment() -> dict:
    (deployment,) = [o for o in service_objects() if o["kind"] == "Deployment"]
    return deployment


def server_config_text() -> str:
    files = load(HUB_VALUES)["singleuser"]["extraFiles"]
    (entry,) = [f for f in files.values() if f["mountPath"].endswith("jupyter_server_config.py")]
    return entry["stringData"]


def pod(containers=(), volumes=(), name="check") -> dict:
    """A Pod around fragments the charts put into their pods, to validate the fragments."""
    spec = {"containers": list(containers) or [{"name": "main", "image": "busybox:1"}]}
    if volumes:
        spec["volumes"] = list(volumes)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def network_policy(ingress=None, egress=None) -> dict:
    spec = {"podSelector": {}, "policyTypes": []}
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "check"},
        "spec": spec,
    }


# --- Chart versions ------------------------------------------------------------------------


def test_each_values_file_names_the_chart_version_it_targets():
    assert re.search(r"targeting chart version 4\.4\.0\b", HUB_VALUES.read_text())
    assert "--version 4.4.0" in HUB_VALUES.read_text()
    text = AIRFLOW_VALUES.read_text()
    assert re.search(r"targeting chart\s+# version 1\.22\.0|chart\s+version 1\.22\.0", text)
    assert "--version 1.22.0" in text
    assert load(AIRFLOW_VALUES)["airflowVersion"] == "3.3.2"


# --- Small Fry settings ----------------------------------------------------------------------


def test_every_smallfry_setting_of_users_servers_is_a_real_traitlet():
    text = server_config_text()
    names = re.findall(r"^c\.SmallFry\.(\w+)\s*=", text, flags=re.MULTILINE)
    assert names, "the users' server config sets no c.SmallFry setting"
    known = set(SmallFry.class_traits(config=True))
    assert sorted(set(names) - known) == []
    # Nothing but Small Fry settings and comments: a typo in the class name would otherwise
    # be silently ignored by Jupyter.
    for line in text.splitlines():
        if line.startswith("c."):
            assert line.startswith("c.SmallFry."), line


def test_the_users_server_config_loads_into_a_valid_smallfry(tmp_path):
    path = tmp_path / "jupyter_server_config.py"
    path.write_text(server_config_text())
    config = PyFileConfigLoader(path.name, str(tmp_path)).load_config()
    assert set(config) == {"SmallFry"}
    settings = SmallFry(config=config)  # runs the validators (roots, intervals, ...)
    for name in config.SmallFry:
        assert getattr(settings, name) is not None, name
    assert settings.credentials_mode == "broker"
    assert [r["name"] for r in settings.roots] == [
        "Homes",
        "Shared",
        "Lake (curated)",
        "Lake (raw)",
    ]


def test_a_wrong_value_in_that_config_is_refused(tmp_path):
    # The check above can fail: the same loading refuses what SmallFry's validators refuse.
    path = tmp_path / "jupyter_server_config.py"
    path.write_text(server_config_text() + "\nc.SmallFry.refresh_interval = 900\n")
    config = PyFileConfigLoader(path.name, str(tmp_path)).load_config()
    with pytest.raises(ValueError, match="refresh_interval"):
        SmallFry(config=config)


def test_users_servers_call_the_service_where_it_listens():
    config = Config()
    exec(compile(server_config_text(), "config", "exec"), {"c": config})  # noqa: S102
    service = next(o for o in service_objects() if o["kind"] == "Service")
    port = service["spec"]["ports"][0]["port"]
    expected = f"http://{service['metadata']['name']}:{port}/services/smallfry/"
    assert config.SmallFry.broker_url == expected
    assert config.SmallFry.jobs_service_url == expected
    # The Hub knows the same service under the same name and address.
    hub = load(HUB_VALUES)["hub"]
    assert (
        f'"url": "http://{service["metadata"]["name"]}:{port}"'
        in (hub["extraConfig"]["smallfry-service"])
    )
    assert '"name": "smallfry"' in hub["extraConfig"]["smallfry-service"]
    env = {
        e["name"]: e.get("value")
        for e in service_deployment()["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["JUPYTERHUB_SERVICE_NAME"] == "smallfry"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/smallfry/"
    # ...and each user's token may reach it.
    for role in ("user", "server"):
        assert "access:services!service=smallfry" in hub["loadRoles"][role]["scopes"]


def test_every_argument_of_the_service_deployment_is_a_real_setting():
    (container,) = service_deployment()["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "jupyterlab_smallfry.hub.service"]
    args = container["args"]
    names = [re.match(r"--SmallFryService\.(\w+)=", a).group(1) for a in args]
    assert sorted(set(names) - set(SmallFryService.class_traits(config=True))) == []
    app = SmallFryService()
    app.parse_command_line(args)  # parsing only: initialize() would need AWS and the key
    assert app.jobs_uri.startswith("s3://") and app.runs_uri.startswith("s3://")
    assert isinstance(app.role_map, dict) and app.role_map
    for group, arn in app.role_map.items():
        # The Terraform's naming: one notebook-<group> role per group.
        assert arn.endswith(f":role/notebook-{group}"), arn


# --- Images -------------------------------------------------------------------------------


def built_images() -> dict[str, str]:
    """Image name (without registry) -> version, for each image deploy/images/ builds."""
    version = json.loads((ROOT / "package.json").read_text())["version"]
    return {
        f"smallfry-{folder.name}": version
        for folder in IMAGES.iterdir()
        if (folder / "Containerfile").is_file()
    }


def named_images() -> list[str]:
    hub = load(HUB_VALUES)
    airflow = load(AIRFLOW_VALUES)
    names = [
        f"{hub['hub']['image']['name']}:{hub['hub']['image']['tag']}",
        f"{hub['singleuser']['image']['name']}:{hub['singleuser']['image']['tag']}",
        f"{airflow['images']['airflow']['repository']}:{airflow['images']['airflow']['tag']}",
    ]
    for obj in service_objects():
        if obj["kind"] == "Deployment":
            names += [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]]
    names += [c["image"] for c in airflow["dagProcessor"]["extraContainers"]]
    return names


def split_image(ref: str) -> tuple[str, str]:
    repository, _, tag = ref.rpartition(":")
    assert repository and "/" not in tag, f"{ref} has no tag: pin one"
    return repository, tag


def test_every_image_named_is_built_here_or_a_named_upstream_one():
    built = built_images()
    assert {"smallfry-job", "smallfry-singleuser", "smallfry-hub"} <= set(built)
    unknown = []
    for ref in named_images():
        repository, tag = split_image(ref)
        if repository in UPSTREAM_IMAGES:
            assert tag != "latest", ref
            continue
        name = repository.rsplit("/", 1)[-1]
        if name == "smallfry-airflow":
            continue  # see the next test
        if built.get(name) != tag:
            unknown.append(ref)
    assert unknown == [], f"not built by deploy/images/build.sh: {unknown}"


def test_the_airflow_image_is_built_here():
    airflow = load(AIRFLOW_VALUES)["images"]["airflow"]
    name = airflow["repository"].rsplit("/", 1)[-1]
    assert built_images().get(name) == airflow["tag"]


# --- Kubernetes objects ----------------------------------------------------------------------


def test_the_service_manifest_holds_valid_kubernetes_objects():
    kinds = []
    for obj in service_objects():
        validate(obj)
        kinds.append(obj["kind"])
    assert sorted(kinds) == ["Deployment", "NetworkPolicy", "Service", "ServiceAccount"]


def test_a_broken_object_is_refused_by_the_same_check():
    deployment = service_deployment()
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
    deployment = service_deployment()
    deployment["spec"]["template"]["spec"]["containers"][0]["volumeMount"] = []  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_the_fragments_the_values_give_the_charts_are_valid():
    hub = load(HUB_VALUES)
    validate(network_policy(ingress=hub["hub"]["networkPolicy"]["ingress"]))
    validate(network_policy(egress=hub["singleuser"]["networkPolicy"]["egress"]))
    airflow = load(AIRFLOW_VALUES)
    processor = airflow["dagProcessor"]
    dags_volume = {"name": "dags", "emptyDir": {}}
    validate(
        pod(
            containers=[
                {
                    "name": "dag-processor",
                    "image": "apache/airflow:3.3.2",
                    "env": airflow["env"],
                    "volumeMounts": processor["extraVolumeMounts"],
                },
                *processor["extraContainers"],
            ],
            volumes=[dags_volume, *processor["extraVolumes"]],
        )
    )
    workers = airflow["workers"]
    validate(
        pod(
            containers=[
                {
                    "name": "base",
                    "image": "apache/airflow:3.3.2",
                    "env": airflow["env"],
                    "volumeMounts": workers["extraVolumeMounts"],
                }
            ],
            volumes=workers["extraVolumes"],
        )
    )
    validate(
        pod(
            containers=[
                {
                    "name": "api-server",
                    "image": "apache/airflow:3.3.2",
                    "env": airflow["apiServer"]["env"],
                }
            ]
        )
    )
    # z2jh's extraEnv takes EnvVar bodies keyed by name.
    env = [
        {"name": k, **v} if isinstance(v, dict) else {"name": k, "value": v}
        for k, v in {**hub["hub"]["extraEnv"], **hub["singleuser"]["extraEnv"]}.items()
    ]
    validate(pod(containers=[{"name": "hub", "image": "busybox:1", "env": env}]))


# --- Pieces that must agree ----------------------------------------------------------------


def airflow_env() -> dict:
    return {e["name"]: e.get("value") for e in load(AIRFLOW_VALUES)["env"]}


def test_the_dag_folder_file_is_the_factorys_own():
    airflow = load(AIRFLOW_VALUES)
    files = yaml.safe_load(airflow["extraConfigMaps"]["smallfry-dag-files"]["data"])
    jobs_dir = airflow_env()["SMALLFRY_JOBS_DIR"]
    assert files["smallfry_jobs.py"] == dag_folder_file(jobs_dir)
    # The DAG processor does not walk the specs as if they were DAG files.
    dags = "/opt/airflow/dags/"
    assert jobs_dir.startswith(dags)
    assert files[".airflowignore"].strip() == jobs_dir[len(dags) :].rstrip("/") + "/"
    # The sidecar syncs the specs into that very folder and puts both files beside them.
    (sync,) = airflow["dagProcessor"]["extraContainers"]
    script = sync["args"][0]
    assert re.search(
        rf"aws s3 sync --delete .*\s+s3://\S+/smallfry/jobs/ {re.escape(jobs_dir)}/",
        script,
        re.DOTALL,
    )
    assert "smallfry_jobs.py" in script and ".airflowignore" in script
    # ...and the jobs the service writes are the ones it syncs.
    args = dict(
        a[2:].split("=", 1)
        for a in service_deployment()["spec"]["template"]["spec"]["containers"][0]["args"]
    )
    assert args["SmallFryService.jobs_uri"] in script


def mounted_secret_dirs(volumes: list[dict], mounts: list[dict], secret: str) -> set[str]:
    names = set()
    for volume in volumes:
        if volume.get("secret", {}).get("secretName") == secret:
            names.add(volume["name"])
            # The runner and the service refuse a key file others may read; the pods' users
            # (uid 1000 / 50000) read it through their fsGroup.
            mode = volume["secret"]["defaultMode"]
            assert mode & 0o007 == 0 and mode & 0o040, f"{volume['name']}: mode {mode:o}"
    return {m["mountPath"].rstrip("/") for m in mounts if m["name"] in names}


def test_the_spec_signing_key_is_mounted_where_it_is_read():
    key_dir = str(Path(airflow_env()["SMALLFRY_SPEC_KEY_FILE"]).parent)
    airflow = load(AIRFLOW_VALUES)
    for part in ("dagProcessor", "workers"):
        values = airflow[part]
        mounted = mounted_secret_dirs(
            values["extraVolumes"], values["extraVolumeMounts"], "smallfry-spec-key"
        )
        assert key_dir in mounted, part
    pod_spec = service_deployment()["spec"]["template"]["spec"]
    args = dict(a[2:].split("=", 1) for a in pod_spec["containers"][0]["args"])
    mounted = mounted_secret_dirs(
        pod_spec["volumes"], pod_spec["containers"][0]["volumeMounts"], "smallfry-spec-key"
    )
    assert str(Path(args["SmallFryService.spec_key_file"]).parent) in mounted
    # The API server needs no key: it is not mounted there.
    assert "smallfry-spec-key" not in json.dumps(airflow["apiServer"])


def test_airflow_login_sets_everything_the_packages_webserver_config_reads():
    airflow = load(AIRFLOW_VALUES)["apiServer"]
    assert "import" in airflow["apiServerConfig"]
    module = re.search(r"from (\S+) import \*", airflow["apiServerConfig"]).group(1)
    assert module == "jupyterlab_smallfry.platform.airflow_webserver_config"
    source = (ROOT / "server-ext" / Path(*module.split("."))).with_suffix(".py").read_text()
    read = set(re.findall(r"os\.environ\.get\(\"(SMALLFRY_AIRFLOW_\w+)\"", source))
    env = {e["name"]: e for e in airflow["env"]}
    assert read and sorted(read - set(env)) == []
    # The client secret comes from a Secret, never as a value in the file.
    assert "valueFrom" in env["SMALLFRY_AIRFLOW_OIDC_CLIENT_SECRET"]
    assert "value" not in env["SMALLFRY_AIRFLOW_OIDC_CLIENT_SECRET"]


def test_no_secret_is_written_in_the_values():
    hub = load(HUB_VALUES)
    for name, value in hub["hub"]["extraEnv"].items():
        assert isinstance(value, dict) and "secretKeyRef" in value["valueFrom"], name
    assert "client_secret" not in hub["hub"]["config"]["GenericOAuthenticator"]
    assert hub["hub"]["config"]["Authenticator"]["enable_auth_state"] is True
    for container in service_deployment()["spec"]["template"]["spec"]["containers"]:
        for env in container["env"]:
            if "TOKEN" in env["name"] or "SECRET" in env["name"]:
                assert "valueFrom" in env, env["name"]
