"""Helpers shared by the benchmarks."""
from __future__ import annotations

import time
from typing import Callable


def best(fn: Callable[[], object], runs: int) -> float:
    """The best wall time of `runs` calls, in seconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
