"""NDJSON nesting depth, checked before pyarrow's recursive JSON parser sees a line (a few
thousand levels crash the whole process)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lakelab.errors import InvalidInput

MAX_JSON_DEPTH = 128  # as DuckDB's JSON reader (used for JSON arrays)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"{}[]\n")
_BRACKET_STEP = np.zeros(256, np.int64)
_BRACKET_STEP[[0x7B, 0x5B]] = 1
_BRACKET_STEP[[0x7D, 0x5D]] = -1


def _json_depth(line: bytes, depth: int = 0) -> int:
    """The deepest nesting in one JSON text (brackets inside strings do not count)."""
    deepest, in_string, escaped = depth, False, False
    for c in line:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x7B, 0x5B):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (0x7D, 0x5D):
            depth -= 1
    return deepest


class DepthGuard:
    """A stream wrapper refusing NDJSON nested deeper than MAX_JSON_DEPTH before pyarrow's
    recursive parser sees it: a few thousand levels crash the whole process (segfault).
    Each block is reduced to its brackets and newlines at C speed; only a line whose
    brackets could reach the limit is checked exactly (so brackets inside strings pass)."""

    def __init__(self, raw: Any, uri: str):
        self.raw, self.uri, self.carry = raw, uri, 0  # carry: open brackets of a line cut by the block end
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        brackets = np.frombuffer(data.translate(None, _NOT_BRACKETS), np.uint8)
        if not len(brackets):
            return data
        depth = np.cumsum(_BRACKET_STEP[brackets])  # running bracket balance over the block
        # the balance within each line: minus the balance at the line's newline (or plus the
        # carry from the previous block, before the first newline)
        newline = np.where(brackets == 0x0A, np.arange(len(brackets)), -1)
        last = np.maximum.accumulate(newline)
        line_depth = depth - np.where(last >= 0, depth[np.maximum(last, 0)], -self.carry)
        if line_depth.max() > MAX_JSON_DEPTH:
            self._check(data)
        self.carry = max(0, int(line_depth[-1]))
        return data

    def _check(self, data: bytes) -> None:
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            start = self.carry if i == 0 else 0
            b = line.translate(None, _NOT_BRACKETS)
            opened = b.count(b"{") + b.count(b"[")
            if start + opened > MAX_JSON_DEPTH and _json_depth(line, start) > MAX_JSON_DEPTH:
                raise InvalidInput(
                    f"{self.uri} nests objects or arrays more than {MAX_JSON_DEPTH} levels deep",
                    hint="flatten the data, or load it as Parquet",
                )

    def close(self) -> None:
        self.closed = True
        self.raw.close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False
