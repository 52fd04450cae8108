"""End to end in a real browser: the operator page of ``shoumen serve`` in headless Chromium
(Debian's ``chromium``, driven by Playwright; no browser is downloaded) against a real uvicorn
server and a real Mosquitto broker.

Signs in (a wrong token is refused), sees the estate drawn (one SVG path per building), gets a
smoke alarm published over MQTT into the alarm list within a second (publish-to-DOM latency
over 20 alarms printed as p50/p95), a property token's resolve of a red alarm shows the 403,
an operator acknowledges with the button and both pages see the state change, the building
drill-down shows the flat in alarm on its storey, the event feed filters by type and building,
and after the change stream is cut and events are published during the gap the reconnect
(``Last-Event-ID``) delivers every one of them with no snapshot and consecutive ids. Raw
``/stream`` checks: resume from an id, resync from a stale one, bad ids and tokens refused.
Screenshots go to the test's tmp dir; one is copied to ``docs/operator_page.png``.
"""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
import uvicorn
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge.registry import RegisteredDevice
from live_bridge.settings import LiveBridgeSettings
from live_bridge.vocabulary import make_event
from twin.server import Principal, create_server

pytestmark = pytest.mark.system

CHROMIUM = Path("/usr/bin/chromium")
DEVICE_KEY = "device-key-0123456789"
OPERATOR = "operator-token-0123456789"
PROPERTY = "property-token-0123456789"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker(start_mosquitto) -> int:  # type: ignore[no-untyped-def]
    """An anonymous Mosquitto on a free port (tests/conftest.py)."""
    return start_mosquitto().port


class Running:
    """A LiveServer served by uvicorn in a thread, subscribed to the broker."""

    def __init__(self, store: Path, broker_port: int) -> None:
        settings = LiveBridgeSettings(api_keys=(DEVICE_KEY,), mqtt_port=broker_port, mqtt_client_id="t-page")
        tokens = {OPERATOR: Principal("op-1", "operator"), PROPERTY: Principal("prop-1", "property")}
        self.srv = create_server("sample", store_path=store, settings=settings, tokens=tokens, dt=0.25)
        self.srv.registry.add(RegisteredDevice(id="patrol-7", kind="patrol_tracker"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.srv.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on",
                                                    timeout_graceful_shutdown=2))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        end = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.srv.start_mqtt(port=broker_port)
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t-page-pub")
        self.pub.connect("127.0.0.1", broker_port)
        self.pub.loop_start()
        self.n = 0

    def publish(self, typ: str, subject: str, data: dict[str, Any]) -> tuple[str, float]:
        """Publish one live event over MQTT; returns its id and the wall time just before."""
        self.n += 1
        eid = f"page-{self.n}"
        ev = make_event(typ, id=eid, source="/mqtt/test", subject=subject, time=datetime.now(UTC), data=data)
        t = time.time()
        self.pub.publish(f"shoumen/events/{subject}", ev.to_json(), qos=1).wait_for_publish(5)
        return eid, t

    def get(self, path: str, token: str = OPERATOR, headers: dict[str, str] | None = None,
            **kw: Any) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kw)

    def stop(self) -> None:
        self.pub.loop_stop()
        self.pub.disconnect()
        self.http.close()
        self.server.should_exit = True
        self.thread.join(20)
        assert not self.thread.is_alive()


def read_sse(resp: httpx.Response, n: int, timeout: float = 10.0) -> list[tuple[int | None, str, dict[str, Any]]]:
    """The next ``n`` events of an open SSE response: (id, event name, data)."""
    lines = resp.__dict__.get("_sse_lines")
    if lines is None:  # one line iterator per response: iter_lines() may be called only once
        lines = resp.__dict__["_sse_lines"] = resp.iter_lines()
    out: list[tuple[int | None, str, dict[str, Any]]] = []
    eid: int | None = None
    name, data = "message", []
    end = time.monotonic() + timeout
    for line in lines:
        if line == "":
            if data:
                out.append((eid, name, json.loads("\n".join(data))))
                if len(out) >= n:
                    return out
            eid, name, data = None, "message", []
        elif line.startswith("id:"):
            eid = int(line[3:].strip())
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
        assert time.monotonic() < end, out
    return out


def smoke_detectors(r: Running, n: int) -> list[str]:
    """``n`` flats' smoke detectors, taken from the buildings in turn (B01, B02, ..., B01, ...)."""
    per: dict[str, list[str]] = {}
    for d in sorted(r.srv.site.devices, key=lambda d: d.id):
        if d.kind.value == "smoke_detector" and d.unit and d.building:
            per.setdefault(d.building, []).append(d.id)
    out: list[str] = []
    k = 0
    while len(out) < n:
        out += [ids[k * 7] for ids in per.values() if len(ids) > k * 7][: n - len(out)]
        k += 1
    return out


@pytest.fixture
def running(tmp_path: Path, broker: int) -> Iterator[Running]:
    r = Running(tmp_path / "live.sqlite", broker)
    try:
        yield r
    finally:
        r.stop()


def test_stream_endpoint(running: Running) -> None:
    r = running
    assert r.http.get("/stream").status_code == 401
    assert r.get("/stream", token=DEVICE_KEY).status_code == 403
    assert r.get("/stream", headers={"Last-Event-ID": "yesterday"}).status_code == 422
    assert r.http.get("/site.geojson").status_code == 401
    site = r.get("/site.geojson").json()
    layers = [f["properties"]["layer"] for f in site["features"]]
    assert layers.count("building") == len(r.srv.site.buildings) and layers.count("camera_cone") == 106
    assert r.http.get("/").status_code == 200 and "app.js" in r.http.get("/").text
    assert "Last-Event-ID" in r.http.get("/static/app.js").text
    assert r.http.get("/static/style.css").status_code == 200
    assert r.get("/me").json() == {"user": "op-1", "role": "operator", "may_forecast": True}

    hdr = {"Authorization": f"Bearer {OPERATOR}"}
    with r.http.stream("GET", "/stream", headers=hdr) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        (head, name, snap), = read_sse(resp, 1)
        assert name == "snapshot" and snap["last_id"] == head and not snap["resync"]
        dets = smoke_detectors(r, 2)
        for d in dets:
            r.publish("cn.shoumen.smoke.alarm", d, {"obscuration_pct_per_m": 4.0})
        got = read_sse(resp, 4)  # per detector: the device change and the alarm raised
    ids = [g[0] for g in got]
    assert ids == list(range(head + 1, head + 5)), ids
    assert {g[1] for g in got} == {"device", "alarm"}
    dev = next(g[2] for g in got if g[1] == "device")
    assert dev["event"]["type"] == "cn.shoumen.smoke.alarm" and dev["device"]["state"] == "alarm"
    reg = r.srv.registry.get(dev["device_id"])
    assert dev["event"]["building"] == reg.building and dev["event"]["level"] == reg.level

    # resume after the first change: exactly the three after it, no snapshot
    with r.http.stream("GET", "/stream", headers={**hdr, "Last-Event-ID": str(head + 1)}) as resp:
        again = read_sse(resp, 3)
    assert [(g[0], g[1]) for g in again] == [(g[0], g[1]) for g in got[1:]]
    # the query form, for clients that cannot set headers
    with r.http.stream("GET", "/stream", headers=hdr, params={"last_event_id": str(head + 3)}) as resp:
        assert [g[0] for g in read_sse(resp, 1)] == [head + 4]
    # an id older than the log or from the future: a fresh snapshot says so
    for stale in ("1", str(head + 10**6)):
        with r.http.stream("GET", "/stream", headers={**hdr, "Last-Event-ID": stale}) as resp:
            (eid, name, snap), = read_sse(resp, 1)
        assert name == "snapshot" and snap["resync"] and eid == head + 4
        assert {a["device"] for a in snap["alarms"]} == set(dets)


def test_operator_page(running: Running, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import expect, sync_playwright

    r = running
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            ctx = browser.new_context(viewport={"width": 1366, "height": 768})
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(r.url + "/")

            # sign in: a wrong token is refused, the operator's accepted
            page.fill("#token", "x" * 20)
            page.click("#login-btn")
            expect(page.locator("#login-error")).to_contain_text("Unknown token")
            page.fill("#token", OPERATOR)
            page.click("#login-btn")
            expect(page.locator("#who")).to_have_text("op-1 · operator")
            expect(page.locator("#conn")).to_have_text("live", timeout=10_000)
            # the estate: a path per building, devices, cones, gates
            expect(page.locator("#map path.building")).to_have_count(len(r.srv.site.buildings))
            assert page.locator("#map path.cone").count() == 106
            assert page.locator("#map rect.gate").count() == 3
            bbox = page.locator("#map").bounding_box()
            assert bbox is not None and bbox["width"] > 700 and bbox["height"] > 600, bbox
            page.screenshot(path=str(shots / "01_signed_in.png"))

            # smoke alarms over MQTT -> alarm list; publish-to-DOM latency
            dets = smoke_detectors(r, 21)
            lat = []
            for d in dets[:20]:
                _eid, t = r.publish("cn.shoumen.smoke.alarm", d, {"obscuration_pct_per_m": 5.0})
                row = page.locator(f'li.alarm[data-device="{d}"]')
                expect(row).to_have_count(1, timeout=5_000)
                aid = row.get_attribute("data-alarm")
                shown = page.evaluate(f"shoumen.state.alarmShownAt[{json.dumps(aid)}]")
                lat.append(shown / 1000.0 - t)
            p50 = statistics.median(lat)
            p95 = sorted(lat)[max(0, round(0.95 * len(lat)) - 1)]
            print(f"\noperator page: MQTT publish -> alarm in the DOM over {len(lat)} alarms: "
                  f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms (twin dt 0.25 s)")
            assert max(lat) < 1.0, lat
            first = dets[0]
            row = page.locator(f'li.alarm[data-device="{first}"]')
            expect(row).to_have_attribute("data-state", "open")
            building = r.srv.registry.get(first).building
            expect(page.locator(f'#map path.building[data-building="{building}"]')).to_have_class(
                "building b-alarm", timeout=2_000)
            assert page.locator(f'#map circle.hot[data-device="{first}"]').count() == 1
            expect(page.locator("#alarm-count")).to_have_text("20")
            red = page.locator("li.alarm.sev-red")
            assert red.count() + page.locator("li.alarm.sev-orange").count() >= 1

            # a property token may not resolve a red alarm: the page shows the server's 403
            other = browser.new_context(viewport={"width": 1366, "height": 768})
            prop = other.new_page()
            prop.goto(r.url + "/")
            prop.fill("#token", PROPERTY)
            prop.click("#login-btn")
            expect(prop.locator("#who")).to_have_text("prop-1 · property")
            expect(prop.locator("#forecast-btn")).to_be_disabled()
            aid = row.get_attribute("data-alarm")
            prow = prop.locator(f'li.alarm[data-alarm="{aid}"]')
            expect(prow).to_have_count(1, timeout=5_000)
            sev = prow.get_attribute("class")
            prow.locator('button[data-action="resolve"]').click()
            prow.locator('input[name="note"]').fill("checked, false alarm")
            prow.locator('button[type="submit"]').click()
            if "sev-red" in (sev or "") or "sev-orange" in (sev or ""):
                expect(prow.locator(".err")).to_contain_text("Not allowed", timeout=5_000)
                expect(prow.locator(".err")).to_contain_text("may not resolve")

            # the operator acknowledges with the button; both pages see it
            row.locator('button[data-action="ack"]').click()
            expect(row).to_have_attribute("data-state", "acknowledged", timeout=3_000)
            expect(row.locator(".meta")).to_contain_text("ack by op-1")
            expect(prow).to_have_attribute("data-state", "acknowledged", timeout=3_000)
            assert r.get(f"/alarms/{aid}").json()["acknowledged_by"] == "op-1"
            prop.screenshot(path=str(shots / "02_property_403.png"))
            other.close()

            # building drill-down: the flat in alarm on its storey
            page.locator(f'#map circle.hot[data-device="{first}"]').click()
            expect(page.locator("#tab-building")).to_be_visible()
            unit = r.srv.registry.get(first).unit
            level = r.srv.registry.get(first).level
            expect(page.locator(f'#building span.unit[data-unit="{unit}"]')).to_have_class("unit s-alarm")
            expect(page.locator(f'#building tr[data-level="{level}"]')).to_have_class("hot")
            page.screenshot(path=str(shots / "03_building.png"))

            # more live data for the picture: a patrol, a crowd count, doors
            r.publish("cn.shoumen.patrol.position", "patrol-7", {"x_m": 150.0, "y_m": 120.0, "accuracy_m": 3.0})
            r.publish("cn.shoumen.camera.crowding", "cam-gate-north-1", {"count": 14})
            expect(page.locator('#map circle.patrol[data-patrol="patrol-7"]')).to_have_count(1, timeout=3_000)
            expect(page.locator("#map text.zone-count").filter(has_text="14 people")).to_have_count(1, timeout=3_000)

            # the change stream cut: events published during the gap all arrive after the reconnect
            page.evaluate("shoumen.disconnect()")
            expect(page.locator("#conn")).to_have_text("paused")
            snaps = page.evaluate("shoumen.state.snapshots")
            gap: list[str] = []
            doors = sorted(d.id for d in r.srv.site.devices if d.kind.value == "door_sensor")[:5]
            for d in doors:
                gap.append(r.publish("cn.shoumen.door.open", d, {})[0])
            gap.append(r.publish("cn.shoumen.smoke.alarm", dets[20], {"obscuration_pct_per_m": 6.0})[0])
            end = time.monotonic() + 5
            while r.get("/state").json()["devices"].get(dets[20], {}).get("state") != "alarm":
                assert time.monotonic() < end
                time.sleep(0.05)
            assert page.locator(f'li.alarm[data-device="{dets[20]}"]').count() == 0  # not while cut
            page.evaluate("shoumen.connect()")
            expect(page.locator(f'li.alarm[data-device="{dets[20]}"]')).to_have_count(1, timeout=5_000)
            for eid in gap:
                expect(page.locator(f'#feed li[data-event="{eid}"]')).to_have_count(1, timeout=3_000)
            assert page.evaluate("shoumen.state.snapshots") == snaps  # resumed, not resynced
            ids = page.evaluate("shoumen.state.received.map(e => e.id)")
            assert ids == list(range(ids[0], ids[0] + len(ids))), "a change was missed or repeated"
            for d in doors:
                assert page.locator(f'#map circle[data-device="{d}"]').get_attribute("class").split()[1] == "s-warn"

            # the feed filters by type and by building
            page.locator('.tab[data-tab="events"]').click()
            page.select_option("#f-type", "door.open")
            expect(page.locator("#feed li")).to_have_count(5)
            page.select_option("#f-type", "")
            page.select_option("#f-building", building)
            texts = page.locator("#feed li").all_inner_texts()
            assert texts and all(building in t for t in texts), texts
            page.select_option("#f-building", "")

            # what happens next: forecast for the selected alarm's flat
            row.click()
            page.click("#forecast-btn")
            fc = page.locator("#forecast [data-forecast]")
            expect(fc).to_have_count(1, timeout=90_000)
            aset = fc.locator('[data-k="aset"] .v').inner_text()
            assert aset.endswith(" s") and float(aset[:-2]) > 0, aset
            assert float(fc.locator('[data-k="rset95"] .v').inner_text()[:-2]) > 0
            expect(fc).to_contain_text(unit)
            page.screenshot(path=str(shots / "04_forecast.png"))

            # the main view for the README: alarms, the event feed, the map in colour
            page.locator('.tab[data-tab="events"]').click()
            page.screenshot(path=str(shots / "05_operator_page.png"))
            docs = REPO / "docs"
            docs.mkdir(exist_ok=True)
            shutil.copyfile(shots / "05_operator_page.png", docs / "operator_page.png")

            # a reload keeps the session (sessionStorage) and shows the same alarms
            page.reload()
            expect(page.locator("#conn")).to_have_text("live", timeout=10_000)
            expect(page.locator("li.alarm")).to_have_count(len(r.get("/alarms").json()["alarms"]))
            expect(page.locator(f'li.alarm[data-device="{first}"]')).to_have_attribute("data-state", "acknowledged")
            assert not errors, errors
            ctx.close()
        finally:
            browser.close()
