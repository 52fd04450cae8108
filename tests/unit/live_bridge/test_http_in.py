"""HTTP ingest: 202 only after the commit (real uvicorn), API key, batches with mixed results,
and bad input answered with the field named."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from geometry.sample import sample_community
from live_bridge.http_in import create_app
from live_bridge.registry import DeviceRegistry
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event

KEY = "test-key-0123456789abcdef"
H = {"X-API-Key": KEY}
SMK = "smk-B01-L00-U01"


@pytest.fixture(scope="module")
def site():
    return sample_community()


@pytest.fixture
def parts(tmp_path: Path, site):
    reg = DeviceRegistry(tmp_path / "live.sqlite", site=site)
    st = SqliteEventStore(tmp_path / "live.sqlite", check=reg.reject_reason, lateness_s=60.0)
    settings = LiveBridgeSettings.from_env({"SHOUMEN_API_KEYS": f"other-key-0000000000000,{KEY}"})
    yield st, reg, settings
    st.close()
    reg.close()


@pytest.fixture
def client(parts):
    st, reg, settings = parts
    with TestClient(create_app(st, reg, settings)) as c:
        yield c


def ev(i: int, *, second: int = 0, subject: str = SMK) -> dict:
    return make_event("cn.shoumen.smoke.alarm", id=f"e{i}", source="/http/test", subject=subject,
                      time=f"2025-03-01T08:{second // 60:02d}:{second % 60:02d}Z").to_dict()


def test_real_uvicorn_answers_202_after_the_commit(parts) -> None:
    st, reg, settings = parts
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(st, reg, settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        end = time.monotonic() + 10
        while not server.started and time.monotonic() < end:
            time.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as http:
            r = http.post("/events", content=json.dumps(ev(1)), headers={**H, "Content-Type": "application/cloudevents+json"})
            assert r.status_code == 202, r.text
            assert r.json() == {"results": [{"id": "e1", "status": "accepted", "reason": ""}]}
            # in the store when the answer arrives: read through a fresh connection, no waiting
            assert [e.event.id for e in st.iter_events()] == ["e1"]
            # binary mode: attributes in ce-* headers, data in the body
            r = http.post("/events", content=b'{"sensing": "heat", "temperature_c": 68.0}', headers={
                **H, "Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "bin-1",
                "ce-source": "%2Fhttp%2Fgateway", "ce-type": "cn.shoumen.smoke.alarm", "ce-subject": "heat-P01-01",
                "ce-time": "2025-03-01T16:00:10+08:00"})
            assert r.status_code == 202 and r.json()["results"][0]["status"] == "accepted", r.text
            got = {e.event.id: e.event for e in st.iter_events()}
            assert got["bin-1"].source == "/http/gateway" and got["bin-1"].data.temperature_c == 68.0
            assert http.post("/events", json=ev(2)).status_code == 401
            assert http.get("/healthz").json()["counters"]["accepted"] == 2
    finally:
        server.should_exit = True
        th.join(10)


def test_api_key_required(client) -> None:
    r = client.post("/events", json=ev(1))
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"] and r.headers["www-authenticate"] == "ApiKey"
    assert client.post("/events", json=ev(1), headers={"X-API-Key": KEY[:-1] + "x"}).status_code == 401
    assert client.post("/events:batch", json=[ev(1)]).status_code == 401
    assert client.post("/events", json=ev(1), headers={"X-API-Key": "other-key-0000000000000"}).status_code == 202


def test_batch_with_mixed_results(client, parts) -> None:
    st = parts[0]
    batch = [ev(1, second=1000), ev(2, second=1010), ev(1, second=1000),   # e1 again: duplicate
             ev(3, second=900),                                          # 110 s older than newest: late
             ev(4, second=1020, subject="ghost-7")]                      # unknown device: rejected
    r = client.post("/events:batch", content=json.dumps(batch),
                    headers={**H, "Content-Type": "application/cloudevents-batch+json"})
    assert r.status_code == 202, r.text
    res = r.json()["results"]
    assert [(x["id"], x["status"]) for x in res] == [("e1", "accepted"), ("e2", "accepted"), ("e1", "duplicate"),
                                                     ("e3", "late"), ("e4", "rejected")]
    assert res[4]["reason"] == "unknown device 'ghost-7'" and "60 s" in res[3]["reason"]
    assert sorted(e.event.id for e in st.iter_events()) == ["e1", "e2", "e3"]
    assert [d.reason for d in st.iter_dead_letters()] == ["unknown device 'ghost-7'"]


def test_bad_input_names_the_field(client, parts) -> None:
    st = parts[0]
    bad = ev(1)
    bad["time"] = "2025-03-01T08:00:00"  # no zone
    r = client.post("/events", json=bad, headers=H)
    assert r.status_code == 422
    assert any(p.startswith("field 'time': expected an RFC 3339 timestamp") for p in r.json()["detail"]["problems"])
    hr = make_event("cn.shoumen.wristband.heart_rate", id="hr", source="/t", subject="wb-B01-L00-U08",
                    time="2025-03-01T08:00:00Z", data={"bpm": 100, "direction": "high"}).to_dict()
    hr["data"]["bpm"] = 400
    r = client.post("/events:batch", json=[ev(2), hr], headers=H)
    assert r.status_code == 422
    assert r.json()["detail"]["problems"] == ["[1] field 'data.bpm': expected a number <= 300, got 400"]
    r = client.post("/events", content=b"{}", headers={**H, "Content-Type": "application/json", "ce-specversion": "1.0",
                                                        "ce-id": "b", "ce-source": "/x", "ce-type": "cn.shoumen.smoke.alarm",
                                                        "ce-subject": SMK, "ce-time": "2025-03-01T08:00:00Z",
                                                        "ce-color": "red"})
    assert r.status_code == 422 and "header 'ce-color' is not allowed" in r.json()["detail"]["problems"][0]
    r = client.post("/events", content=b"{nope", headers={**H, "Content-Type": "application/cloudevents+json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    r = client.post("/events", json=[ev(3)], headers=H)
    assert r.status_code == 400 and "/events:batch" in r.json()["detail"]
    assert client.post("/events:batch", json=ev(3), headers=H).status_code == 400
    assert client.post("/events:batch", json=[], headers=H).status_code == 400
    r = client.post("/events", content=b"x", headers={**H, "Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/cloudevents+json" in r.json()["detail"]
    assert list(st.iter_events()) == [] and list(st.iter_dead_letters()) == []  # a refused batch stores nothing


def test_limits_and_configuration(parts) -> None:
    st, reg, settings = parts
    with TestClient(create_app(st, reg, settings, max_batch=2, max_body_bytes=2000)) as c:
        r = c.post("/events:batch", json=[ev(1), ev(2), ev(3)], headers=H)
        assert r.status_code == 413 and "limit of 2" in r.json()["detail"]
        assert c.post("/events:batch", json=[ev(i) for i in range(10)], headers=H).status_code == 413
    with pytest.raises(ValueError, match="SHOUMEN_API_KEYS"):
        create_app(st, reg, LiveBridgeSettings())
    with pytest.raises(ValueError, match="SHOUMEN_API_KEYS"):
        LiveBridgeSettings.from_env({"SHOUMEN_API_KEYS": "short"})
    unchecked = SqliteEventStore(st.path)
    try:
        with pytest.raises(ValueError, match="check=registry.reject_reason"):
            create_app(unchecked, reg, settings)
    finally:
        unchecked.close()
    st.close()
    with TestClient(create_app(st, reg, settings)) as c:
        r = c.post("/events", json=ev(1), headers=H)
        assert r.status_code == 503 and "closed" in r.json()["detail"]
