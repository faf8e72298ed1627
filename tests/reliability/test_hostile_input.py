"""Hostile input (issue 8): every case of hostile_cases.py against a real lakehouse, through
the real IPython magics, the Python API and the `lakelab` CLI (in-process and as a process).

Each case must give a clear error (a lakelab error naming what was wrong; in a cell, one
error line and no traceback; from the CLI a non-zero exit and one `lakelab: error:` line),
commit nothing (the catalog fingerprint is unchanged) and touch no file outside the
warehouse - nor add any inside it. Cases marked `accept` are hostile-looking input the
product must handle correctly instead (an injection bound as a plain value).
The REST cases are in tests/server/test_hostile_rest.py.
"""

from __future__ import annotations

import contextlib
import gzip
import html
import io
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile_cases import CASES, CATEGORIES, Case
from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import lakelab
from catalog_state import fingerprint
from lakelab.cli import main as cli_main
from lakelab.datasets import search
from lakelab.errors import LakelabError
from lakelab.notebook.magics import MagicError

RESULTS: dict[str, tuple[Case, bool, float]] = {}


@dataclass
class Hostile:
    lh: lakelab.Lakehouse
    shell: Any
    root: Path  # everything of this module: home, inputs, the "outside" sentinels
    home: Path
    inp: Path
    out: Path

    @property
    def warehouse(self) -> Path:
        return self.lh.config.warehouse

    def list_datasets(self, namespace: str, **kw: Any) -> Any:
        return search.list_datasets(self.lh, namespace, **kw)


def _write_inputs(inp: Path) -> None:
    inp.mkdir()
    (inp / "ragged.csv").write_text("id,name\n1,a\n2,b,c\n")
    (inp / "garbage.parquet").write_bytes(bytes(range(256)) * 20)
    pq.write_table(
        pa.table({"id": pa.array(range(5000), pa.int64()), "name": [f"n{i}" for i in range(5000)]}),
        inp / "good.parquet",
    )
    whole = (inp / "good.parquet").read_bytes()
    (inp / "truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (inp / "empty.csv").write_bytes(b"")
    (inp / "empty.parquet").write_bytes(b"")
    (inp / "notjson.json").write_text("this is { not json\n")
    (inp / "truncated.ndjson").write_text('{"id": 1}\n{"id": \n')
    (inp / "notgzip.csv.gz").write_text("id,name\n1,a\n")
    (inp / "latin1.csv").write_bytes(b"id,name\n1,caf\xe9\n")  # Latin-1, not UTF-8
    packed = gzip.compress(b"id,name\n" + "".join(f"{i},n{i * 7919 % 10007}\n" for i in range(20_000)).encode())
    (inp / "truncated.csv.gz").write_bytes(packed[: len(packed) // 2])  # cut inside the deflate stream
    (inp / "text_id.csv").write_text("id,name\nten,a\n")
    (inp / "nul_header.csv").write_bytes(b"id,na\x00me\n1,a\n")
    (inp / "latin1_header.csv").write_bytes("id,caf\u00e9\n1,a\n".encode("latin-1"))
    (inp / "blank_header.csv").write_text(",name\n1,a\n")
    deep = 100_000  # pyarrow's recursive JSON parser segfaults from a few 10,000 levels
    (inp / "deep_arrays.ndjson").write_text('{"a": ' + "[" * deep + "1" + "]" * deep + "}\n")
    (inp / "deep_objects.ndjson").write_text('{"a": ' * deep + "1" + "}" * deep + "\n")
    (inp / "garbage.yaml").write_bytes(bytes(range(128, 256)) * 8)
    (inp / "list.yaml").write_text("- catalog\n- engine\n")
    with (inp / "bigline.ndjson").open("w") as f:  # one 20 MB line
        f.write('{"id": 1, "name": "' + "y" * (20 << 20) + '"}\n')
    with (inp / "bigcell.csv").open("w") as f:  # one 50 MB cell
        f.write("id,name\n1,")
        chunk = "x" * (1 << 20)
        for _ in range(50):
            f.write(chunk)
        f.write("\n")


def _write_outside(out: Path) -> None:
    (out / "deep").mkdir(parents=True)
    (out / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (out / "deep" / "keep.parquet").write_bytes(b"PAR1 sentinel")
    (out / "x.csv").write_text("sentinel, must stay as it is\n")


@pytest.fixture(scope="module")
def h(tmp_path_factory, pytestconfig) -> Any:
    """One lakehouse and one shell for the module; each case checks it left them unchanged."""
    root = tmp_path_factory.mktemp("hostile")
    home = root / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("LAKELAB_HOME", str(home))
    for var in list(os.environ):
        if var.startswith("LAKELAB_TRINO_") or var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE", "LAKELAB_WORKSPACE"):
            mp.delenv(var)
    mp.chdir(root)  # relative paths a case might write land where the listing sees them
    _write_inputs(root / "inputs")
    _write_outside(root / "outside")
    lh = lakelab.connect(reload=True)  # the magics and the in-process CLI use this default
    lh.ingest(pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]}), "hx.t", mode="create", progress=False)
    lh.publish(pa.table({"id": [1]}), "hx.u", description="second table, for paging")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "lakelab")
    shell.magics_manager.registry["SqlMagics"]._lh = lh
    shell.user_ns["df"] = pa.table({"id": pa.array([3], pa.int64()), "name": ["c"]}).to_pandas()
    shell.user_ns["sdf"] = pa.table({"id": ["x"], "name": ["a"]}).to_pandas()
    yield Hostile(lh, shell, root, home, root / "inputs", root / "outside")
    if RESULTS:  # the figures for the docs, shown uncaptured; each case reports its own failure
        with pytestconfig.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            print("\n".join(_summary()))
    shell.reset()
    InteractiveShell.clear_instance()
    lh.close()
    lakelab.lakehouse._default = None
    mp.undo()


# -- the checks ---------------------------------------------------------------------------
def listing(h: Hostile) -> dict[str, tuple]:
    """(size, mtime_ns) of every file and directory under the module's root, warehouse
    included; only the search index, the query result cache and logs (written by reads) and
    the SQLite catalog file (its content is what `fingerprint` compares) are left out."""
    skip = {h.home / "index", h.home / "catalog.db", h.home / "cache"}
    out = {}
    for dirpath, dirnames, filenames in os.walk(h.root):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if d / n not in skip and n != "__pycache__"]
        if d == h.home / "workspaces" and not filenames and not dirnames:
            continue  # the workspace manager's own (empty) state folder, made when it is first used
        out[str(d)] = ("dir",)
        for n in filenames:
            if n.endswith(".log") or d / n in skip:
                continue
            st = (d / n).stat()
            out[str(d / n)] = (st.st_size, st.st_mtime_ns)
    return out


def words_missing(text: str, expect: tuple[str, ...]) -> list[str]:
    low = text.lower()
    return [w for w in expect if w.lower() not in low]


def fill(text: str, h: Hostile) -> str:
    return text.replace("{inp}", str(h.inp)).replace("{out}", str(h.out)).replace("{root}", str(h.root))


def run_python(case: Case, h: Hostile) -> None:
    if case.accept:
        result = case.action(h)
        assert case.accept(result, h), f"accepted input gave a wrong result: {result!r}"
        return
    with pytest.raises(LakelabError) as e:
        case.action(h)
    msg = str(e.value)
    assert not words_missing(msg, case.expect), f"message {msg[:300]!r} lacks {words_missing(msg, case.expect)}"


def run_magic(case: Case, h: Hostile) -> None:
    with capture_output() as cap:
        res = h.shell.run_cell(fill(case.action, h))
    shown = "".join(o.data.get("text/html", "") for o in cap.outputs)
    text = html.unescape(re.sub(r"<[^>]+>", "", shown)) + cap.stdout + cap.stderr
    assert "Traceback" not in text, text[-2000:]
    err = res.error_before_exec or res.error_in_exec
    if case.accept:
        assert err is None and case.accept(res.result, h), f"accepted input gave {err!r} / {res.result!r}"
        return
    # the cell fails with one line (IPython's own argument errors are one line too)
    assert isinstance(err, (MagicError, IPythonUsageError)), f"the cell did not fail: {err!r} {text[:300]!r}"
    if isinstance(err, IPythonUsageError):
        text += str(err)
    else:
        assert text.startswith("lakelab error: ") and text.count("\n") == 1, text[:300]
    assert not words_missing(text, case.expect), f"output {text[:300]!r} lacks {words_missing(text, case.expect)}"


def run_cli(case: Case, h: Hostile) -> tuple[Any, str, str]:
    argv = [fill(a, h) for a in case.action]
    if case.subprocess:
        p = subprocess.run([sys.executable, "-m", "lakelab", *argv], capture_output=True, text=True, timeout=300)
        rc, out, err = p.returncode, p.stdout, p.stderr
    else:
        out_buf, err_buf = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
            try:
                rc = cli_main(argv)
            except SystemExit as e:  # argparse's usage errors
                rc = e.code
        out, err = out_buf.getvalue(), err_buf.getvalue()
    assert "Traceback" not in out + err, err[-2000:]
    if case.accept:
        assert rc == 0 and case.accept((rc, out, err), h), f"accepted input gave rc={rc}: {err[-300:]!r} {out[:300]!r}"
        return rc, out, err
    assert rc not in (0, None), f"exit code {rc!r} for a bad input"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and re.match(r"lakelab( \w+)?: error: ", lines[-1]), f"no error line: {err[-500:]!r}"
    if not lines[0].startswith("usage:"):  # a domain error: exactly one line
        assert len(lines) == 1, f"more than one line on stderr: {err[-500:]!r}"
    missing = words_missing(lines[-1], case.expect)
    assert not missing, f"{lines[-1][:300]!r} lacks {missing}"
    return rc, out, err


RUNNERS = {"python": run_python, "magic": run_magic, "cli": run_cli}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.surface}-{c.id}" for c in CASES])
def test_hostile_input(case: Case, h: Hostile) -> None:
    before_catalog, before_files = fingerprint(h.lh), listing(h)
    started = time.perf_counter()
    ok = False
    try:
        RUNNERS[case.surface](case, h)
        after_catalog = fingerprint(h.lh)
        assert after_catalog == before_catalog, "the catalog changed: " + ", ".join(
            sorted(k for k in set(before_catalog) | set(after_catalog) if before_catalog.get(k) != after_catalog.get(k))
        )
        after_files = listing(h)
        changed = sorted(k for k in set(before_files) | set(after_files) if before_files.get(k) != after_files.get(k))
        assert not changed, f"files changed: {changed[:10]}"
        ok = True
    finally:
        RESULTS[case.surface + "-" + case.id] = (case, ok, time.perf_counter() - started)


def test_reserved_words_as_names_round_trip(h: Hostile) -> None:
    """Reserved words are valid names: stored, queried (quoted) and previewed as written."""
    lh = h.lh
    lh.ingest(pa.table({"select": [1, 2], "from": ["x", "y"]}), "select.order", mode="create", progress=False)
    try:
        assert lh.dataset("select.order").preview(5).to_pylist() == [
            {"select": 1, "from": "x"},
            {"select": 2, "from": "y"},
        ]
        r = lh.sql('SELECT "select", "from" FROM "select"."order" WHERE "from" = {{ v }}', params={"v": "y"})
        assert r.table.to_pylist() == [{"select": 2, "from": "y"}]
        found = [d["name"] for d in lh.datasets(namespace="select")]
        assert found == ["select.order"]
    finally:
        lh.catalog.drop_table(("select", "order"))
        lh.catalog.drop_namespace(("select",))


def test_brackets_inside_json_strings_are_not_nesting(h: Hostile) -> None:
    """The nesting guard counts structure, not text: deep-looking strings ingest as written."""
    text = "[" * 500 + "{" * 300 + '\\"]'
    path = h.root / "brackets.ndjson"
    path.write_text("".join(json.dumps({"id": i, "s": text, "n": [[[i]]]}) + "\n" for i in range(3)))
    try:
        h.lh.ingest(str(path), "brackets.t", mode="create", progress=False)
        rows = h.lh.sql("SELECT id, s FROM brackets.t ORDER BY id").table.to_pylist()
        assert rows == [{"id": i, "s": text} for i in range(3)]
    finally:
        h.lh.catalog.drop_table(("brackets", "t"))
        h.lh.catalog.drop_namespace(("brackets",))


def test_markup_in_metadata_and_values_is_shown_as_text(h: Hostile) -> None:
    """HTML in a description, owner, tag or value never reaches a notebook as markup."""
    lh, evil = h.lh, "<img src=x onerror=alert(1)>"
    lh.publish(pa.table({"v": [evil]}), "markup.p", description=evil, owner=evil, tags=["<b>t</b>"])
    try:
        shown = [
            lh.dataset("markup.p")._repr_html_(),
            lh.datasets(namespace="markup")._repr_html_(),
            lh.sql("SELECT v FROM markup.p")._repr_html_(),
        ]
        for page in shown:
            assert evil not in page and "<b>t</b>" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in shown[0] and "&lt;img" in shown[2]
    finally:
        lh.catalog.drop_table(("markup", "p"))
        lh.catalog.drop_namespace(("markup",))


def test_terminal_escapes_in_metadata_are_printed_inert(h: Hostile) -> None:
    """`lakelab datasets` shows a description's escape sequences as text, never sends them."""
    lh, evil = h.lh, "\x1b]0;pwned\x07\x1b[2Jcleared"
    lh.publish(pa.table({"v": [1]}), "term.p", description=evil, owner="\x1b[31mred")
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli_main(["datasets", "--namespace", "term"]) == 0
        text = out.getvalue()
        assert "term.p" in text and "\x1b" not in text and "\x07" not in text
        assert "\\x1b[2Jcleared" in text and "\\x1b[31mred" in text
    finally:
        lh.catalog.drop_table(("term", "p"))
        lh.catalog.drop_namespace(("term",))


def _summary() -> list[str]:
    """A table of the cases run: per surface and category, how many passed."""
    grid: Counter = Counter()
    passed: Counter = Counter()
    for case, ok, _ in RESULTS.values():
        grid[(case.surface, case.category)] += 1
        passed[(case.surface, case.category)] += ok
    surfaces = sorted({s for s, _ in grid})
    total_s = sum(t for _, _, t in RESULTS.values())
    lines = [
        "",
        "hostile input corpus: passed/cases per surface and category",
        f"{'category':<18}" + "".join(f"{s:>12}" for s in surfaces) + f"{'all':>12}",
    ]
    for cat in CATEGORIES:
        cells = [f"{passed[(s, cat)]}/{grid[(s, cat)]}" if grid[(s, cat)] else "-" for s in surfaces]
        n, p = sum(grid[(s, cat)] for s in surfaces), sum(passed[(s, cat)] for s in surfaces)
        if n:
            lines.append(f"{cat:<18}" + "".join(f"{c:>12}" for c in cells) + f"{f'{p}/{n}':>12}")
    tot = [f"{sum(passed[(s, c)] for c in CATEGORIES)}/{sum(grid[(s, c)] for c in CATEGORIES)}" for s in surfaces]
    lines.append(
        f"{'all':<18}" + "".join(f"{c:>12}" for c in tot) + f"{f'{sum(passed.values())}/{sum(grid.values())}':>12}"
    )
    lines.append(f"time in cases: {total_s:.1f} s (incl. fingerprint + file listing per case)")
    return lines
