"""Helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any


def best(fn: Callable[[], object], runs: int) -> float:
    """The best wall time of `runs` calls, in seconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def synthetic_batches(rows: int, step: int) -> Iterator[Any]:
    """The benchmarks' synthetic table (id, x, cat, k) as Arrow tables of `step` rows; seeded."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(0)
    cats = np.array(["north", "south", "east", "west", "central"])
    schema = pa.schema([("id", pa.int64()), ("x", pa.float64()), ("cat", pa.string()), ("k", pa.int64())])
    for start in range(0, rows, step):
        n = min(step, rows - start)
        yield pa.table(
            {
                "id": np.arange(start, start + n),
                "x": rng.random(n),
                "cat": pa.array(cats[rng.integers(0, len(cats), n)]),
                "k": rng.integers(0, 100_000, n),
            },
            schema=schema,
        )
