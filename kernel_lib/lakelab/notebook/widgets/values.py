"""Cell values as the widgets send them to the browser: JSON, bounded in size."""

from __future__ import annotations

import datetime
import decimal
import json
import math
from typing import Any

MAX_CELL_CHARS = 1000  # a cell's text is cut here: one huge value must not make a page huge
SAFE_INT = 2**53


def cell(value: Any) -> Any:
    """A value as JSON the grid shows: numbers stay numbers (within JavaScript's exact range)."""
    if value is None or (isinstance(value, (bool, str)) and len(str(value)) <= MAX_CELL_CHARS):
        return value
    if isinstance(value, int):
        return value if -SAFE_INT < value < SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value[:MAX_CELL_CHARS] + "…"
    if isinstance(value, (decimal.Decimal, datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(value, bytes):
        text = "0x" + value[:64].hex() + ("…" if len(value) > 64 else "")
        return text
    text = json.dumps(value, default=str)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"
