"""Fixtures of the tracker tests."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def instant_retry_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make every ``asyncio.sleep`` return at once, and list the delays asked for.

    The guide's stages keep the default ``task_wait_seconds=1.0``; with this fixture their
    retries still go through the same waits (per-task through tenacity, per-stage in the
    pipeline) but take no time, so a guide example runs as written in milliseconds.
    """
    real_sleep = asyncio.sleep
    delays: list[float] = []

    async def instant_sleep(delay: float, result: object = None) -> object:
        delays.append(delay)
        return await real_sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", instant_sleep)
    return delays
