"""Fixtures shared by the unit and system tests: a real Mosquitto broker on a free port."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest


@dataclass
class Broker:
    host: str
    port: int
    proc: subprocess.Popen
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_mosquitto(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """A factory: ``start_mosquitto(config)`` starts ``mosquitto -c`` with ``config`` (a
    format string with ``{port}`` and ``{dir}``; the listener, the run-as user and a log file in
    ``{dir}`` are added unless given) on a free port and waits until it accepts connections.
    Every broker started is stopped at the end of the test."""
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if exe is None:
        pytest.fail("mosquitto is not installed (scripts/setup.sh installs the Debian package)")
    started: list[subprocess.Popen] = []

    def start(config: str = "allow_anonymous true\n", *, name: str = "mosquitto") -> Broker:
        port = _free_port()
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        text = config.format(port=port, dir=d)
        if "listener " not in text:
            text = f"listener {port} 127.0.0.1\n" + text
        text += f"\nuser {getpass.getuser()}\nlog_dest file {d}/mosquitto.log\n"
        conf = d / "mosquitto.conf"
        conf.write_text(text)
        proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(proc)
        end = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
                    proc.kill()
                    pytest.fail(f"mosquitto did not start on port {port}: {err}")
                time.sleep(0.02)
        return Broker("127.0.0.1", port, proc, d / "mosquitto.log")

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
