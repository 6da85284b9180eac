"""podman as the container tests drive it: with tests/containers/containers.conf, output captured, time-bounded."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CONTAINERS_CONF = Path(__file__).with_name("containers.conf")
INSTALL_HINT = "make test-containers installs podman, buildah, runc and mmdebstrap from Debian's packages (scripts/install-podman)"


def missing_tools() -> list[str]:
    """The tools the container tests need that are not on PATH."""
    return [tool for tool in ("podman", "buildah", "runc", "mmdebstrap") if shutil.which(tool) is None]


def environment() -> dict[str, str]:
    """This process's environment with podman pointed at the tests' containers.conf."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Run `podman ARGS`; on a non-zero exit with check, fail with the command and the end of its output."""
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, env=environment())
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {done.returncode}: {(done.stderr or done.stdout)[-3000:]}")
    return done


def start(*args: str) -> subprocess.Popen:
    """Start `podman ARGS` in the background, output to pipes (for `podman run` in the foreground)."""
    return subprocess.Popen(["podman", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def image_label(name: str, label: str) -> str:
    """The value of an image's label, '' when it has none."""
    value = podman("image", "inspect", "--format", f'{{{{ index .Labels "{label}" }}}}', name).stdout.strip()
    return "" if value == "<no value>" else value


def remove_containers(*names: str) -> None:
    """Remove these containers, running or not, when they exist; last named first (podman keeps a
    container whose network namespace others still join), and fail if one is left."""
    for name in reversed(names):
        podman("rm", "--force", "--ignore", "--time", "5", name, check=False, timeout=60)
    left = [name for name in names if podman("container", "exists", name, check=False).returncode == 0]
    assert not left, f"containers left behind: {left}"
