"""Installing the local services' programs from the package registries only, once, into a cache
outside the repo: Go binaries through the Go module proxy (`go install`), jars and classpaths
from Maven Central (`mvn dependency:copy` / `copy-dependencies`). Every step checks first."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from lakelab.errors import Unavailable


def cache_root() -> Path:
    return Path(os.environ.get("LAKELAB_CACHE") or Path.home() / ".cache" / "lakelab").expanduser()


def _tail(res: subprocess.CompletedProcess) -> str:
    return (res.stdout + res.stderr).strip()[-800:]


def go_binary(name: str, module: str, version: str) -> Path:
    """`$CACHE/bin/NAME` built by `go install MODULE@VERSION` when missing (a marker file
    records the version, so a version bump rebuilds)."""
    bindir = cache_root() / "bin"
    binary, marker = bindir / name, bindir / f".{name}.version"
    if binary.exists() and marker.exists() and marker.read_text().strip() == f"{module}@{version}":
        return binary
    if binary.exists() and not marker.exists():  # installed by scripts/setup.sh or by hand: trust it
        marker.write_text(f"{module}@{version}\n")
        return binary
    # the machine's own Go (recent) before a distribution's older one
    go = shutil.which("go", path=os.pathsep.join(["/usr/local/go/bin", os.environ.get("PATH", "")]))
    if not go:
        raise Unavailable(
            f"{name} is not in {bindir} and Go is not installed to build it",
            hint=f"install Go, or run: GOBIN={bindir} go install {module}@{version}",
        )
    bindir.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        [go, "install", f"{module}@{version}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, GOBIN=str(bindir)),
    )
    if res.returncode != 0 or not binary.exists():
        raise Unavailable(f"`go install {module}@{version}` failed: {_tail(res)}")
    marker.write_text(f"{module}@{version}\n")
    return binary


def _mvn() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise Unavailable(
            "Maven (mvn) is not installed to fetch the service's jars from Maven Central",
            hint="install maven (apt-get install maven) and retry",
        )
    return mvn


def maven_artifact(coords: str, dest: Path, filename: str) -> Path:
    """One artifact (`group:artifact:version:type[:classifier]`) copied to dest/filename."""
    target = dest / filename
    if target.exists():
        return target
    dest.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        [_mvn(), "-q", "-B", "dependency:copy", f"-Dartifact={coords}", f"-DoutputDirectory={dest}"],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0 or not target.exists():
        raise Unavailable(f"fetching {coords} with Maven failed: {_tail(res)}")
    return target


def maven_classpath(name: str, dependencies: list[tuple[str, str, str, str | None]], dest: Path) -> Path:
    """A folder of jars: a throwaway pom listing (group, artifact, version, classifier) and
    `mvn dependency:copy-dependencies`. Returns dest/lib once complete."""
    lib, marker = dest / "lib", dest / ".complete"
    if marker.exists():
        return lib
    dest.mkdir(parents=True, exist_ok=True)
    deps = "\n".join(
        f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
        + (f"<classifier>{c}</classifier>" if c else "")
        + "</dependency>"
        for g, a, v, c in dependencies
    )
    (dest / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>lakelab</groupId><artifactId>{name}</artifactId><version>1</version>"
        f"<dependencies>{deps}</dependencies></project>\n"
    )
    shutil.rmtree(lib, ignore_errors=True)
    res = subprocess.run(
        [_mvn(), "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={lib}", "-DincludeScope=runtime"],
        capture_output=True,
        text=True,
        cwd=dest,
    )
    if res.returncode != 0:
        raise Unavailable(f"building the {name} classpath with Maven failed: {_tail(res)}")
    marker.write_text("ok\n")
    return lib


def _java_version(home: Path) -> int | None:
    try:
        text = (home / "release").read_text()
    except OSError:
        return None
    m = re.search(r'^JAVA_VERSION="(\d+)', text, re.M)
    return int(m.group(1)) if m else None


def java_home(minimum: int, for_what: str, maximum: int | None = None) -> Path:
    """A JDK in [minimum, maximum]: LAKELAB_JAVA_HOME, JAVA_HOME, else the newest in /usr/lib/jvm."""
    cands = [os.environ.get(v) for v in ("LAKELAB_JAVA_HOME", "JAVA_HOME")]
    found = [Path(c) for c in cands if c]
    found += sorted(Path("/usr/lib/jvm").glob("*"), key=lambda p: _java_version(p) or 0, reverse=True)
    for home in found:
        v = _java_version(home)
        if v and v >= minimum and (maximum is None or v <= maximum) and (home / "bin" / "java").exists():
            return home
    raise Unavailable(
        f"{for_what} needs Java {minimum}"
        + (f" to {maximum}" if maximum else " or newer")
        + "; none found in JAVA_HOME or /usr/lib/jvm",
        hint=f"install a JDK {minimum}"
        + (f"-{maximum} (e.g. Debian's openjdk-17)" if maximum else "+")
        + " and set LAKELAB_JAVA_HOME to it",
    )
