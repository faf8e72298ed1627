"""Profiles of real parts for these tests (tests/lakehouse_profiles.py)."""

from __future__ import annotations

from lakehouse_profiles import lakehouse_profile  # noqa: F401 - the session fixture factory
