"""The real image, built from the Dockerfile and run in containers by podman.

- the base images the Dockerfile names (pulled, or stand-ins from Debian's packages: stand_in_bases.py),
- a wheelhouse and the DynamoDB Local package fetched on the host by scripts/fetch-offline, cached
  outside the checkout and handed to the build as offline/ (the build then reaches no package index),
- `podman build` of the Dockerfile as it is, with a clean checkout's files as the context,
- (a) `run scenarios/quickstart.yaml` in one container on its embedded DynamoDB Local, results in a
  mounted folder; (b) docker-compose.yml's services (DynamoDB Local, a master, its workers) started one
  by one as Compose would, headless; (c) `podman stop` of a single run mid-run; (d) the Kubernetes
  `local` overlay's Deployments started as a kubelet would, until their readiness probes pass.

`make test-containers` runs these (the `containers` marker; `make test` leaves them out: they take
minutes). The time of each phase, the image's size and the distributed run's numbers are printed
at the end and kept in ~/.cache/ddb-harness/containers/last-run.json.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import REPO
from podman_cli import INSTALL_HINT, missing_tools, podman, remove_containers
from stand_in_bases import ensure_bases
from test_deploy_files import SCENARIO_CONFIGMAP, container_env, containers, find, render

from harness.durations import parse_duration
from harness.target.local import cache_dir

pytestmark = [pytest.mark.containers, pytest.mark.timeout(1800)]  # the first test builds the image

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "docker-compose.yml"
IMAGE = "ddb-harness:local"  # the name docker-compose.yml and the Kubernetes manifests run
CACHE = cache_dir() / "containers"
IMAGE_USER = "1000:1000"
SIGTERM_EXIT = 143  # 128 + SIGTERM: what `ddb-harness run` says when it was stopped
COMPOSE_RUN_TIME = "20s"
# The shell of a user running README's unattended Compose command (docker-compose.yml passes these through).
COMPOSE_SHELL = {"LOCUST_HEADLESS": "true", "LOCUST_RUN_TIME": COMPOSE_RUN_TIME, "LOCUST_CSV": "results/locust", "LOCUST_HTML": "results/locust_report.html"}
WORKER_LINE = re.compile(r"worker (\d+) of (\d+) sent (\d+) requests \((\d+) failed\)")


# --- what is measured ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def measured(request):
    """Phase times and numbers of this run; printed at the end and kept in CACHE/last-run.json."""
    facts: dict[str, object] = {}
    yield facts
    if facts:
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "last-run.json").write_text(json.dumps(facts, indent=2))
        lines = [f"  {name}: {value:.1f} s" if isinstance(value, float) else f"  {name}: {value}" for name, value in facts.items()]
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():  # to the terminal, also when the tests pass
            print("\n".join(["", "container tests, measured:", *lines]), file=sys.stderr)


class timed:
    """`with timed(measured, "phase"):` records the block's wall time in seconds."""

    def __init__(self, facts: dict, name: str) -> None:
        self.facts, self.name = facts, name

    def __enter__(self):
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc_info) -> None:
        self.facts[self.name] = round(time.monotonic() - self.started, 1)


# --- the image -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tools():
    missing = missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: {INSTALL_HINT}")


@pytest.fixture(scope="session")
def bases(tools, measured) -> dict[str, str]:
    with timed(measured, "phase: base images"):
        how = ensure_bases(DOCKERFILE)
    measured["base images"] = ", ".join(f"{image} ({what})" for image, what in how.items())
    return how


def offline_key() -> str:
    """What the offline folder's content depends on: the dependencies, the pins and the script that fetches them."""
    parts = [(REPO / "pyproject.toml").read_bytes(), (REPO / "scripts" / "fetch-offline").read_bytes()]
    parts += [line.encode() for line in DOCKERFILE.read_text().splitlines() if line.startswith(("ARG DDB_LOCAL", "FROM"))]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()[:16]


@pytest.fixture(scope="session")
def offline(tools, measured) -> Path:
    """The wheelhouse and the DynamoDB Local package, fetched once per change of what they depend on."""
    folder = CACHE / f"offline-{offline_key()}"
    with timed(measured, "phase: wheelhouse"):
        if not (folder / ".complete").exists():
            done = subprocess.run([str(REPO / "scripts" / "fetch-offline"), str(folder)], capture_output=True, text=True, timeout=900, cwd=REPO)
            assert done.returncode == 0, done.stderr[-3000:]
            (folder / ".complete").touch()
    return folder


def build_context(folder: Path, offline: Path) -> Path:
    """A clean checkout's files (tracked and new, none that git ignores) plus offline/: what a user's build sends."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True, text=True, check=True)
    for name in filter(None, listed.stdout.split("\0")):
        source = REPO / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    shutil.rmtree(folder / "offline", ignore_errors=True)
    shutil.copytree(offline, folder / "offline", copy_function=link_or_copy, ignore=shutil.ignore_patterns(".complete"))
    return folder


def link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


@pytest.fixture(scope="session")
def image(bases, offline, measured, tmp_path_factory) -> str:
    context = build_context(tmp_path_factory.mktemp("context"), offline)
    with timed(measured, "phase: image build"):
        # docker format: OCI images drop SHELL and HEALTHCHECK. The host's network: apt-get reaches Debian.
        podman("build", "--format", "docker", "--pull=never", "--network=host", "--tag", IMAGE, str(context), timeout=1500)
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    measured["image size"] = f"{size / 1e6:.0f} MB"
    return IMAGE


def test_image_runs_as_an_unprivileged_user_without_credentials(image, measured):
    config = json.loads(podman("image", "inspect", image).stdout)[0]["Config"]
    assert config["User"] == IMAGE_USER
    assert config["Entrypoint"] == ["tini", "--", "ddb-harness"] and config["Cmd"] == ["run", "scenarios/quickstart.yaml"]
    assert set(config["ExposedPorts"]) == {"8089/tcp", "5557/tcp"}
    assert not [variable for variable in config["Env"] if variable.startswith("AWS_")]
    probe = "id -u; find / -xdev \\( -name .aws -o -type f -name credentials -o -type f -name .env \\) -print 2>/dev/null; touch /app/probe 2>/dev/null && echo writable || echo read-only"
    uid, *found, app = podman("run", "--rm", "--network=none", "--entrypoint", "sh", image, "-c", probe).stdout.splitlines()
    assert uid == "1000"
    assert found == [], "no AWS credential files anywhere in the image"
    assert app == "read-only", "the user writes results/, not the code in /app"
    measured["image layers over 10 MB"] = large_layers(image)


def large_layers(image: str) -> str:
    """The image's layers over 10 MB, largest first, each with the start of the instruction that made it."""
    layers = json.loads(podman("history", "--no-trunc", "--format", "json", image).stdout)
    large = sorted((layer for layer in layers if layer["size"] > 10e6), key=lambda layer: -layer["size"])
    return "; ".join(f"{layer['size'] / 1e6:.0f} MB {short(layer['CreatedBy'])}" for layer in large)


def short(created_by: str) -> str:
    """An instruction as `podman history` shows it, without the build arguments and shell prefix."""
    text = re.sub(r"^\|\d+ (\S+=\S+ )*", "", created_by.replace("/bin/sh -c #(nop) ", "").replace("/bin/sh -c ", ""))
    return re.sub(r"\s+", " ", text).strip()[:60]


# --- runs --------------------------------------------------------------------------------------


def results_folder(tmp_path: Path, name: str) -> Path:
    """A host folder the image's user (uid 1000) can write, to mount at /app/results."""
    folder = tmp_path / name
    folder.mkdir()
    if os.geteuid() == 0:
        os.chown(folder, 1000, 1000)
    else:
        folder.chmod(0o777)
    return folder


def only_run_dir(results: Path) -> Path:
    folders = [folder for folder in results.iterdir() if folder.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def aggregated(stats_csv: Path) -> dict[str, str]:
    with open(stats_csv, newline="") as handle:
        (row,) = [row for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]
    return row


@pytest.fixture(scope="module")
def quickstart(image, measured, tmp_path_factory) -> SimpleNamespace:
    """README's one-container run: the image's quickstart on its embedded DynamoDB Local, results on the host."""
    results = results_folder(tmp_path_factory.mktemp("quickstart"), "results")
    remove_containers("ddb-harness-quickstart")
    with timed(measured, "run: quickstart in one container"):
        done = podman(
            "run", "--rm", "--name", "ddb-harness-quickstart", "--network=none", "-v", f"{results}:/app/results",
            image, "run", "scenarios/quickstart.yaml", timeout=300, check=False,
        )  # fmt: skip
    return SimpleNamespace(code=done.returncode, stdout=done.stdout, stderr=done.stderr, results=results)


def test_quickstart_runs_in_one_container_and_writes_its_results_to_the_mounted_folder(quickstart):
    assert quickstart.code == 0, quickstart.stderr[-3000:]
    run_dir = only_run_dir(quickstart.results)
    assert f"results: results/{run_dir.name}" in quickstart.stdout
    for name in ("scenario.yaml", "locust_stats.csv", "locust_report.html", "harness_latency.csv", "harness_attempts.csv", "report.md", "report.html", "summary.json"):
        assert (run_dir / name).is_file(), name
    assert run_dir.stat().st_uid == 1000, "written by the image's user"
    totals = aggregated(run_dir / "locust_stats.csv")
    assert int(totals["Request Count"]) > 0 and int(totals["Failure Count"]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary, "the report's summary is written"
    assert "DynamoDB Local" in quickstart.stderr or "dynamodb-local" in quickstart.stderr.lower()


def test_podman_stop_mid_run_writes_every_result_file_and_exits_interrupted(quickstart, image, measured, tmp_path):
    assert quickstart.code == 0, "the comparison run failed"
    results = results_folder(tmp_path, "results")
    name = "ddb-harness-stopped"
    remove_containers(name)
    try:
        podman("run", "--detach", "--name", name, "--network=none", "-v", f"{results}:/app/results", image, "run", "scenarios/quickstart.yaml")
        deadline = time.monotonic() + 120
        while not any(results.glob("*/locust_stats.csv")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert any(results.glob("*/locust_stats.csv")), podman("logs", name).stderr[-3000:]
        time.sleep(5)  # users running
        # A generous grace: how long the stop takes is measured, not asserted (a busy machine is slower).
        with timed(measured, "run: podman stop until the container exited"):
            podman("stop", "--time", "60", name, timeout=120)
        code = int(podman("wait", name).stdout.strip())
        logs = podman("logs", name)
    finally:
        remove_containers(name)
    assert code == SIGTERM_EXIT, f"exit code {code}: {logs.stderr[-3000:]}"
    assert "SIGTERM sent to ddb-harness" in logs.stderr and "stopping the run as on Ctrl+C" in logs.stderr
    run_dir = only_run_dir(results)
    interruption = json.loads((run_dir / "harness_interruption.json").read_text())
    assert (interruption["cause"], interruption["signal"], interruption["exit_code"]) == ("signal", "SIGTERM", SIGTERM_EXIT)
    kept = sorted(path.relative_to(run_dir).as_posix() for path in run_dir.rglob("*") if path.is_file() and path.name != "harness_interruption.json")
    complete = sorted(path.relative_to(only_run_dir(quickstart.results)).as_posix() for path in only_run_dir(quickstart.results).rglob("*") if path.is_file())
    measured["podman stop: result files kept"] = f"{len(kept)} of the {len(complete)} a complete run writes, and the interruption record"
    assert kept == complete, f"missing: {sorted(set(complete) - set(kept))}, extra: {sorted(set(kept) - set(complete))}"
    totals = aggregated(run_dir / "locust_stats.csv")
    assert int(totals["Request Count"]) > 0 and int(totals["Failure Count"]) == 0


# --- docker-compose.yml ------------------------------------------------------------------------


def compose_environment(service: dict, shell: dict[str, str]) -> dict[str, str]:
    """A service's environment as Compose sets it: ${VAR:-default} from the shell, bare names passed through when set."""
    env = {}
    for name, value in (service.get("environment") or {}).items():
        if value is None:
            if name in shell:
                env[name] = shell[name]
            continue
        env[name] = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda match: shell.get(match[1]) or match[2] or "", str(value))
    return env


def compose_run_args(project: str, name: str, service: dict, shell: dict[str, str], network: list[str]) -> list[str]:
    """`podman run` arguments for one container of a Compose service: entrypoint, command, environment, volumes, restart."""
    args = ["run", "--detach", "--name", name, *network]
    for variable, value in compose_environment(service, shell).items():
        args += ["--env", f"{variable}={value}"]
    for volume in service.get("volumes", []):
        source, target, *mode = volume.split(":")
        args += ["--volume", ":".join([str((COMPOSE.parent / source).resolve()), target, *mode])]
    if "working_dir" in service:
        args += ["--workdir", service["working_dir"]]
    if service.get("restart"):
        args += ["--restart", service["restart"]]
    if "entrypoint" in service:
        args += ["--entrypoint", json.dumps(service["entrypoint"])]
    return args + [service["image"], *service.get("command", [])]


def wait_healthy(name: str, healthcheck: dict) -> None:
    """Run the service's healthcheck command in its container as Compose does, until it passes."""
    test = healthcheck["test"]
    assert test[0] == "CMD"
    time.sleep(min(parse_duration(healthcheck.get("start_period", "1s")), 2))
    for _ in range(int(healthcheck["retries"])):
        if podman("exec", name, *test[1:], check=False, timeout=parse_duration(healthcheck["timeout"]) + 5).returncode == 0:
            return
        time.sleep(parse_duration(healthcheck["interval"]))
    raise AssertionError(f"{name} never became healthy: {podman('logs', name).stdout[-2000:]}")


def test_compose_topology_master_totals_equal_its_workers_requests(image, measured, tmp_path):
    spec = yaml.safe_load(COMPOSE.read_text())
    project, services = spec["name"], spec["services"]
    workers = int(services["worker"]["deploy"]["replicas"])
    shell = {**COMPOSE_SHELL, "LOCUST_EXPECT_WORKERS": str(workers)}
    server, master = f"{project}-dynamodb-local-1", f"{project}-master-1"
    worker_names = [f"{project}-worker-{number}" for number in range(1, workers + 1)]
    everyone = [server, master, *worker_names]
    remove_containers(*everyone)
    # One network namespace of their own, like Compose's project network, where the service names resolve
    # (podman keeps --add-host out of containers that join another's namespace: a hosts file instead).
    hosts = tmp_path / "hosts"
    hosts.write_text(f"127.0.0.1 localhost {' '.join(services)}\n")
    own_network = ["--network=none", "--volume", f"{hosts}:/etc/hosts:ro"]
    shared = [f"--network=container:{server}", "--volume", f"{hosts}:/etc/hosts:ro"]
    try:
        with timed(measured, f"run: compose topology (DynamoDB Local, master, {workers} workers, {COMPOSE_RUN_TIME} headless)"):
            podman(*compose_run_args(project, server, services["dynamodb-local"], shell, own_network))
            wait_healthy(server, services["dynamodb-local"]["healthcheck"])
            podman(*compose_run_args(project, master, services["master"], shell, shared))
            for name in worker_names:
                podman(*compose_run_args(project, name, services["worker"], shell, shared))
            code = int(podman("wait", master, timeout=300).stdout.strip())  # as `--exit-code-from master`
        logs = {name: podman("logs", name) for name in everyone}
        copied = tmp_path / "compose-results"
        podman("cp", f"{master}:/app/results", str(copied))  # README: docker compose cp master:/app/results ./compose-results
    finally:
        remove_containers(*everyone)
    assert code == 0, logs[master].stderr[-3000:]
    master_totals = aggregated(copied / "locust_stats.csv")
    worker_lines = [WORKER_LINE.search(logs[name].stderr) for name in worker_names]
    assert all(worker_lines), {name: logs[name].stderr[-1500:] for name in worker_names}
    assert sorted((int(line[1]), int(line[2])) for line in worker_lines) == [(index, workers) for index in range(workers)]
    sent, failed = sum(int(line[3]) for line in worker_lines), sum(int(line[4]) for line in worker_lines)
    measured["compose run: requests (master / sum of workers)"] = f"{master_totals['Request Count']} / {sent}"
    measured["compose run: requests/s"] = f"{float(master_totals['Requests/s']):.0f}"
    measured["compose run: failures"] = master_totals["Failure Count"]
    assert int(master_totals["Request Count"]) == sent > 0
    assert int(master_totals["Failure Count"]) == failed == 0
    assert (copied / "locust_report.html").is_file()
    health = json.loads((copied / "harness_workers.json").read_text())
    assert len(health["workers"]) == workers and health["lost"] == 0
    # The harness's report from the master's files, by the image's own `ddb-harness report`.
    if os.geteuid() == 0:
        for path in [copied, *copied.rglob("*")]:
            os.chown(path, 1000, 1000)
    with timed(measured, "run: report of the compose run"):
        podman("run", "--rm", "--network=none", "-v", f"{copied}:/app/results", image, "report", "results", timeout=180)
    assert (copied / "report.md").is_file() and (copied / "report.html").is_file()


# --- deploy/kubernetes/local -------------------------------------------------------------------


def kubernetes_run_args(name: str, deployment: dict, objects: list[dict], network: list[str], scenario: Path) -> list[str]:
    """`podman run` arguments for a Deployment's container as a kubelet starts it: command, args, working
    directory, environment (ConfigMap, then env), the scenario ConfigMap's mount, the pod's user and the
    container's securityContext."""
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    user, security = pod["securityContext"], container.get("securityContext", {})
    args = ["run", "--detach", "--name", name, *network, "--user", f"{user['runAsUser']}:{user.get('runAsGroup', user['runAsUser'])}"]
    if security.get("capabilities", {}).get("drop") == ["ALL"]:
        args.append("--cap-drop=ALL")
    if security.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    for variable, value in container_env(deployment, objects).items():
        args += ["--env", f"{variable}={value}"]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        assert volumes[mount["name"]]["configMap"]["name"] == SCENARIO_CONFIGMAP
        args += ["--volume", f"{scenario}:{mount['mountPath']}/scenario.yaml:ro"]  # kubectl create configmap --from-file=scenario.yaml=...
    if "workingDir" in container:
        args += ["--workdir", container["workingDir"]]
    return args + ["--entrypoint", json.dumps(container["command"]), IMAGE, *container.get("args", [])]


def probe_passes(name: str, container: dict, probe: dict) -> bool:
    """Run a Kubernetes probe (httpGet or tcpSocket, named or numbered port) from inside the pod's network."""
    ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
    if "httpGet" in probe:
        port = ports.get(probe["httpGet"]["port"], probe["httpGet"]["port"])
        code = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{probe['httpGet'].get('path', '/')}', timeout=2)"
    else:
        port = ports.get(probe["tcpSocket"]["port"], probe["tcpSocket"]["port"])
        code = f"import socket; socket.create_connection(('127.0.0.1', {port}), 2).close()"
    return podman("exec", name, "python", "-c", code, check=False, timeout=30).returncode == 0


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds:.0f} s"
        time.sleep(1)


def test_kubernetes_local_overlay_runs_and_its_readiness_probes_pass(image, measured, tmp_path):
    objects = render("local")
    server, master, worker = (find(objects, "Deployment", f"ddb-harness-{role}") for role in ("dynamodb-local", "master", "worker"))
    names = {"server": "k8s-dynamodb-local", "master": "k8s-master", "worker": "k8s-worker"}
    remove_containers(*names.values())
    hosts = tmp_path / "hosts"  # the Services' names, as cluster DNS resolves them
    hosts.write_text("127.0.0.1 localhost " + " ".join(item["metadata"]["name"] for item in objects if item["kind"] == "Service") + "\n")
    own_network = ["--network=none", "--volume", f"{hosts}:/etc/hosts:ro"]
    shared = [f"--network=container:{names['server']}", "--volume", f"{hosts}:/etc/hosts:ro"]
    scenario = REPO / "scenarios" / "roundtrip.yaml"  # the wiring is the point: a scenario whose data loads in a moment
    try:
        with timed(measured, "run: Kubernetes local overlay until master ready and 1 worker connected"):
            podman(*kubernetes_run_args(names["server"], server, objects, own_network, scenario))
            (server_container,) = containers(server)
            wait_until(lambda: probe_passes(names["server"], server_container, server_container["readinessProbe"]), 60, "DynamoDB Local ready")
            podman(*kubernetes_run_args(names["master"], master, objects, shared, scenario))
            podman(*kubernetes_run_args(names["worker"], worker, objects, shared, scenario))
            (master_container,) = containers(master)
            wait_until(lambda: probe_passes(names["master"], master_container, master_container["readinessProbe"]), 120, "the master's readiness probe (its web UI)")
            stats = "import json, urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:8089/stats/requests'))['worker_count'])"
            wait_until(lambda: podman("exec", names["master"], "python", "-c", stats, check=False).stdout.strip() == "1", 60, "the worker connected to the master's Service")
    finally:
        logs = podman("logs", names["master"], check=False).stderr
        remove_containers(*names.values())
    assert "ERROR" not in logs, logs[-3000:]
