"""Fixtures for the live bridge's inbound paths: a real Mosquitto broker on a free port."""

from __future__ import annotations

import pytest


@pytest.fixture
def mosquitto(start_mosquitto):  # type: ignore[no-untyped-def]
    """A Mosquitto broker on 127.0.0.1 with persistence on and a 1000-message in-flight window
    (the shared ``start_mosquitto`` factory of tests/conftest.py)."""
    return start_mosquitto("allow_anonymous true\npersistence true\npersistence_location {dir}/\n"
                           "max_inflight_messages 1000\nmax_queued_messages 100000\n")
