"""Fixtures for the live bridge's inbound paths: a real Mosquitto broker on a free port."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Broker:
    host: str
    port: int
    proc: subprocess.Popen
    log: Path


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A Mosquitto broker on 127.0.0.1 with persistence on and a 1000-message in-flight window."""
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if exe is None:
        pytest.fail("mosquitto is not installed (scripts/setup.sh installs the Debian package)")
    port = free_port()
    d = tmp_path / "mosquitto"
    d.mkdir()
    conf = d / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {d}/\n"
        f"max_inflight_messages 1000\nmax_queued_messages 100000\nuser {getpass.getuser()}\n"
        f"log_dest file {d}/mosquitto.log\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                err = proc.stderr.read().decode() if proc.stderr else ""
                proc.kill()
                pytest.fail(f"mosquitto did not start on port {port}: {err}")
            time.sleep(0.02)
    try:
        yield Broker("127.0.0.1", port, proc, d / "mosquitto.log")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
