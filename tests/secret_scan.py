"""Suite-wide secret scan (issue 8): no secret the tests create may show up in any output,
log or error the suite produces.

Secrets are registered as they are made: `register(value, kind)` from a test or fixture,
and automatically for every Ray workspace token (`Store.new_token`, and any `*.token` file
in a workspace state dir under pytest's basetemp, which catches tokens a server or CLI
subprocess made), every Trino password/JWT (`TrinoConfig`) and every catalog credential
(`Config`: secret keys and `user:password@` in URIs). Jupyter server tokens are not
registered: they are per-test throwaway values that Jupyter itself prints in its URLs.

For each test phase the captured stdout/stderr/log sections and the failure text are
checked; a hit fails that test with a message naming the place (never the value), and the
value is masked in what pytest prints. At the end of the session the text files the suite
wrote are scanned (tests/artifacts/** and the basetemp: server/jupyter/Trino logs, workspace
logs, JSON records); a hit makes the session fail. A summary line says what was scanned.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import pytest

MIN_LEN = 8  # shorter values ("pw" in a refusal test) would match ordinary text
SCAN_SUFFIXES = {".log", ".out", ".err", ".txt", ".json", ".ipynb", ".html"}
MAX_FILE_BYTES = 8 * 1024 * 1024  # the head of bigger files is scanned
STATE_DIR_GLOBS = ("*/workspaces", "*/*/workspaces", "*/*/*/workspaces")  # $LAKELAB_HOME/workspaces under basetemp
ARTIFACTS = Path(__file__).parent / "artifacts"

_secrets: dict[str, str] = {}  # value -> kind (the value is never printed)
_extra_dirs: list[Path] = []
_test_hits: list[str] = []
_summary: dict[str, Any] = {}


def register(value: Any, kind: str = "secret") -> None:
    """Remember a secret value; every output and log of the suite is checked for it."""
    if isinstance(value, str) and len(value.strip()) >= MIN_LEN:
        _secrets.setdefault(value.strip(), kind)


def scan_dir(path: str | Path) -> None:
    """Also scan this directory's text files at the end of the session (if it still exists)."""
    _extra_dirs.append(Path(path))


def find(text: str | bytes) -> list[str]:
    """The kinds of registered secrets found in text (never the values)."""
    if isinstance(text, bytes):
        return sorted({kind for value, kind in _secrets.items() if value.encode() in text})
    return sorted({kind for value, kind in _secrets.items() if value in text})


def mask(text: str) -> str:
    for value, kind in _secrets.items():
        text = text.replace(value, f"<{kind} hidden by secret_scan>")
    return text


# -- automatic registration ---------------------------------------------------------------
def _install_spies() -> None:
    """Wrap the constructors that receive secrets so each value is registered as it appears.
    Behaviour is unchanged: the original runs first and its result is returned."""
    from lakelab import config
    from lakelab.workspaces import state

    new_token = state.Store.new_token

    def spy_new_token(self, name: str):
        path = new_token(self, name)
        register(path.read_text(), "Ray workspace token")
        return path

    trino_init = config.TrinoConfig.__init__

    def spy_trino(self, *a, **kw):
        trino_init(self, *a, **kw)
        register(self.password, "Trino password")
        register(self.jwt, "Trino JWT")

    config_init = config.Config.__init__

    def spy_config(self, *a, **kw):
        config_init(self, *a, **kw)
        for key, value in (self.catalog or {}).items():
            if config.is_secret(str(key)):
                register(value, f"catalog {key}")
            elif isinstance(value, str) and "://" in value:
                try:
                    register(urllib.parse.urlsplit(value).password, "catalog URI password")
                except ValueError:
                    pass

    state.Store.new_token = spy_new_token
    config.TrinoConfig.__init__ = spy_trino
    config.Config.__init__ = spy_config


def _harvest_tokens(config: pytest.Config) -> None:
    """Register the tokens of workspace state dirs under basetemp (made by subprocesses too)."""
    base = _basetemp(config)
    if base is None:
        return
    for pattern in STATE_DIR_GLOBS:
        for d in base.glob(pattern):
            for tok in d.glob("*.token"):
                try:
                    register(tok.read_text(), "Ray workspace token")
                except OSError:
                    continue


def _basetemp(config: pytest.Config) -> Path | None:
    factory = getattr(config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None)  # None until a test asked for a temp dir
    return Path(base) if base else None


# -- hooks ---------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    _install_spies()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    _harvest_tokens(item.config)
    if not _secrets:
        return
    places = []
    for i, (title, content) in enumerate(rep.sections):
        kinds = find(content)
        if kinds:
            if title.endswith(rep.when):  # earlier phases' sections repeat in later reports
                places.append(f"{title} ({', '.join(kinds)})")
            rep.sections[i] = (title, mask(content))
    failure = rep.longreprtext if rep.longrepr else ""
    kinds = find(failure)
    if kinds:
        places.append(f"the failure text ({', '.join(kinds)})")
    if not places:
        return
    message = f"secret scan: {item.nodeid} ({rep.when}): a registered secret appears in " + "; ".join(places)
    _test_hits.append(message)
    rep.outcome = "failed"
    rep.longrepr = message + (f"\n\n{mask(failure)}" if failure else "")


def _scan_files(roots: list[Path]) -> tuple[int, int, list[str]]:
    files = nbytes = 0
    hits: list[str] = []
    seen: set[Path] = set()
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.suffix not in SCAN_SUFFIXES or path in seen or not path.is_file():
                continue
            seen.add(path)
            try:
                with path.open("rb") as f:
                    data = f.read(MAX_FILE_BYTES)
            except OSError:
                continue
            files += 1
            nbytes += len(data)
            kinds = find(data)
            if kinds:
                hits.append(f"{path}: {', '.join(kinds)}")
    return files, nbytes, hits


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _harvest_tokens(session.config)
    roots = [ARTIFACTS, *_extra_dirs]
    base = _basetemp(session.config)
    if base is not None:
        roots.append(base)
    files, nbytes, hits = _scan_files(roots)
    _summary.update(secrets=len(_secrets), files=files, bytes=nbytes, file_hits=hits, test_hits=list(_test_hits))
    if hits and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _summary:
        return
    s = _summary
    hits = len(s["file_hits"]) + len(s["test_hits"])
    terminalreporter.write_sep("-", "secret scan")
    terminalreporter.write_line(
        f"secret scan: {s['secrets']} secret(s) registered, {s['files']} file(s) scanned "
        f"({s['bytes']:,} bytes), {hits} hit(s)"
    )
    for line in s["test_hits"]:
        terminalreporter.write_line(f"  FAILED {line}")
    for line in s["file_hits"]:
        terminalreporter.write_line(f"  FAILED secret in file {line}")
