"""The web service of the live twin (DESIGN.md: "operator ... watches the live twin: sensor and
camera events mirrored in, alarms, patrols; 'what happens next' from the live state").

:func:`create_server` wires, over one SQLite file (WAL):

* the event store (:class:`~live_bridge.store.SqliteEventStore`, devices checked by the
  :class:`~live_bridge.registry.DeviceRegistry` seeded from the site) wrapped in a
  :class:`~live_bridge.mirror.MirroringStore`, so every committed event reaches the
  :class:`~live_bridge.alarms.AlarmCenter` and the twin;
* a real-time :class:`~twin.core.Twin` (``RealtimeEnvironment``, tick ``dt``) running in a
  background thread with the :class:`~live_bridge.mirror.Mirror` (it also advances the alarm
  center's clock: escalations) and the :class:`~live_bridge.mirror.LiveState` component; at
  start the live state is rebuilt from the store (:meth:`LiveState.rebuild`), so a restart
  shows the same state as before;
* the HTTP ingest app of :func:`live_bridge.http_in.create_app` (``POST /events``,
  ``POST /events:batch``, ``GET /healthz``; ``X-API-Key`` = one of ``settings.api_keys``),
  mounted under the read and operator endpoints below; and, on request
  (:meth:`LiveServer.start_mqtt`), the MQTT subscriber of :mod:`live_bridge.mqtt_in`.

Endpoints (JSON):

====================================  =====================================================
``GET  /state``                       the live state (:meth:`LiveState.snapshot`) and the
                                      twin's clock (``twin``)
``GET  /alarms``                      open (and acknowledged) alarms, most urgent first
``GET  /alarms/{id}``                 one alarm with its audit history
``POST /alarms/{id}/ack``             acknowledge as the token's user and role
``POST /alarms/{id}/resolve``         resolve; body ``{"note": "what was done"}``
``GET  /events?since=&limit=``        stored events with event time >= ``since`` (RFC 3339)
``POST /forecast``                    "what happens next" (below); 201 with the result
``GET  /forecast/{id}``               a forecast made earlier (kept in memory)
``GET  /me``                          the caller's user and role
``GET  /site.geojson``                the site plan for the operator's map (:func:`site_geojson`)
``GET  /stream``                      Server-Sent Events: the live state, then its changes
                                      (below)
``GET  /``, ``GET /static/...``       the operator page (``viz/web/``; no token needed to load
                                      it, every request it makes carries the token)
====================================  =====================================================

Change stream (``GET /stream``, ``text/event-stream``). Every change the mirror applies to the
live state (:meth:`LiveState.add_listener`: device state changes with the event that caused
them, alarms raised / folded / escalated / acknowledged / resolved, people counts per zone,
patrol positions) is appended to a bounded in-memory :class:`ChangeLog` (``stream_log_size``
entries) under an integer id that only grows (it starts at the service's start time in UTC
microseconds, so ids after a restart are larger than any before). A new connection gets a
``snapshot`` event (the live state, :meth:`LiveState.snapshot`, taken atomically with the log
id it reflects), then ``device``, ``alarm``, ``zone`` and ``patrol`` events. A reconnect that
sends ``Last-Event-ID`` (header, or ``?last_event_id=`` for clients that cannot set headers)
gets every change after that id, nothing missed and no snapshot -- unless the id is older than
the log keeps (or from the future), then a fresh ``snapshot`` (``"resync": true``) replaces the
client's state. A comment line is sent every 15 s to keep proxies from closing an idle
stream. Latency: a change is applied at the twin's next tick boundary (``dt``, 0.5 s by
default), then pushed at once.

Authentication (kept simple). Each request carries a token as ``Authorization: Bearer <token>``
or ``X-API-Key: <token>``. ``tokens`` maps a token to ``(user, role)``, role one of
:data:`live_bridge.alarms.ROLES` (``operator``, ``grid_worker``, ``property``, ``admin``);
by default they are read from ``SHOUMEN_TOKENS`` (``token=user:role`` comma-separated, tokens of
16+ characters). The ingest keys ``settings.api_keys`` are **device** tokens: they may post
events and nothing else (403 on the endpoints above). Reading needs a person's token; acting on
an alarm is checked by the alarm center (:data:`live_bridge.alarms.PERMISSIONS`; refused ->
403); a forecast needs ``operator`` or ``admin``. No token or an unknown one -> 401. Tokens are
compared in constant time.

Forecast ("what happens next"). The live twin is forked at a tick boundary
(:meth:`Twin.request_snapshot`; the fork's ``LiveState`` is read, the live twin keeps running).
The flat on fire is the request's ``unit``, else the flat of ``alarm_id``, else the flat of the
detector longest in alarm in the forked state. A scenario like the library's
``night-kitchen-fire`` is built for that building and flat -- a fast t-squared kitchen fire (3 MW)
in the flat, the building's residents at home as at the local time of the alarm, the
building's detector-driven alarm, evacuation to the assembly points -- and run as fast as
possible (not real time) with the SFPE network-flow model (``model="flow"``, default: ~4 s wall
for 40 min of a high-rise on this machine) or the crowd model (``model="crowd"``: ~25 s). The
answer gives ASET of the escape route, RSET (95 %, 100 %), the margins, the first untenable
compartments, when the model's detector went off, and ``aset_remaining_s`` = ASET - the
model's detection time - the time already elapsed since the live alarm (how long the escape
route has left if the live detector fired when the model's did).
"""

from __future__ import annotations

import asyncio
import hmac
import importlib.util
import itertools
import json
import logging
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from geometry.site import DeviceKind, Site
from live_bridge.alarms import ROLES, Alarm, AlarmCenter, AlarmStateError
from live_bridge.mirror import LiveRecorder, LiveState, Mirror, MirroringStore
from live_bridge.registry import DeviceRegistry
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import SqliteEventStore
from twin.core import Twin
from twin.events import AlarmStatusChanged, DeviceStateChanged, Event, PatrolPositionReported, ZonePeopleCounted

__all__ = ["DEVICE_ROLE", "ChangeLog", "ForecastRequest", "LiveServer", "Principal", "create_server", "live_type",
           "parse_tokens", "serve_main", "site_geojson"]

log = logging.getLogger(__name__)

#: The role of the ingest keys (``settings.api_keys``): may post events only.
DEVICE_ROLE = "device"
_FORECAST_ROLES = frozenset({"operator", "admin"})
_UNIT_RE = re.compile(r"^(?P<b>.+)-L(?P<lv>-?\d+)-(?P<u>U\d+)$")


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to: ``user`` (a person's or device gateway's id) and ``role``."""

    user: str
    role: str


def parse_tokens(text: str, *, source: str = "SHOUMEN_TOKENS") -> dict[str, Principal]:
    """``token=user:role`` pairs, comma-separated (``source`` names the setting in errors)."""
    out: dict[str, Principal] = {}
    for k, item in enumerate(p.strip() for p in text.split(",")):
        if not item:
            continue
        tok, sep, rest = item.partition("=")
        user, sep2, role = rest.partition(":")
        where = f"{source}: entry {k + 1}"
        if not sep or not sep2 or not user.strip():
            raise ValueError(f"{where}: expected 'token=user:role', got {item.split('=')[0][:4]}...")
        if len(tok.strip()) < 16:
            raise ValueError(f"{where}: tokens must be at least 16 characters")
        if role.strip() not in ROLES:
            raise ValueError(f"{where}: role {role.strip()!r} is not one of {', '.join(ROLES)}")
        out[tok.strip()] = Principal(user.strip(), role.strip())
    return out


#: the live event type (without ``cn.shoumen.``) that set a device to a state (the inverse of
#: :func:`live_bridge.mirror.translate`'s state words; ``fall`` depends on the device kind)
_STATE_TYPE: dict[str, str] = {
    "alarm": "smoke.alarm", "clear": "smoke.clear", "open": "door.open", "closed": "door.close",
    "forced": "door.forced", "high": "water.level", "normal": "water.level", "displaced": "manhole.displacement",
    "seated": "manhole.displacement", "pressed": "button.pressed", "sos": "wristband.sos",
    "fall": "wristband.fall", "heart_rate_high": "wristband.heart_rate", "heart_rate_low": "wristband.heart_rate",
    "no_activity": "wristband.no_activity", "loitering": "camera.loitering", "intrusion": "camera.intrusion",
    "crowding": "camera.crowding", "thrown_object": "camera.thrown_object", "plate_in": "camera.licence_plate",
    "plate_out": "camera.licence_plate", "plate": "camera.licence_plate", "position": "patrol.position",
    "checkpoint": "patrol.checkpoint", "hazard_report": "grid.hazard_report", "passage_in": "gate.passage",
    "passage_out": "gate.passage",
}


def live_type(kind: str, state: str) -> str:
    """The CloudEvents type (``cn.shoumen.smoke.alarm``) of the live event that set a device of
    ``kind`` to ``state``; ValueError for a state no live event sets."""
    t = _STATE_TYPE.get(state)
    if t is None:
        raise ValueError(f"live_type: no live event sets a device to state {state!r}")
    if state == "fall" and kind == "camera":
        t = "camera.fall"
    return "cn.shoumen." + t


class ChangeLog:
    """A bounded in-memory log of live-state changes for ``GET /stream`` (module docstring).

    Each entry is ``(id, name, data)``: an integer id one larger than the previous entry's, the
    SSE event name and its JSON text. The first id is ``first_id`` + 1 (default: now in UTC
    microseconds, so ids grow across restarts). Only the newest ``capacity`` entries are kept.
    :meth:`append` is thread-safe and wakes the asyncio waiters registered by :meth:`subscribe`
    (each on its own event loop)."""

    def __init__(self, *, capacity: int = 10_000, first_id: int | None = None) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"ChangeLog: capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self._items: deque[tuple[int, str, str]] = deque(maxlen=capacity)
        self._last = int(time.time() * 1e6) if first_id is None else int(first_id)
        self._lock = threading.Lock()
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}

    @property
    def last_id(self) -> int:
        """The id of the newest entry (the starting id while empty)."""
        return self._last

    def __len__(self) -> int:
        return len(self._items)

    def append(self, name: str, data: Mapping[str, Any]) -> int:
        """Add one change (``data`` JSON-able); returns its id."""
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._last += 1
            self._items.append((self._last, name, text))
            eid = self._last
            waiters = list(self._waiters.items())
        for ev, loop in waiters:
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:  # that loop is closed: its stream is gone
                self.unsubscribe(ev)
        return eid

    def since(self, last_id: int) -> list[tuple[int, str, str]] | None:
        """The entries after ``last_id``, oldest first; None when the log cannot tell (``last_id``
        older than the oldest entry kept, or newer than the newest): the caller must resync."""
        with self._lock:
            oldest = self._items[0][0] if self._items else self._last + 1
            if last_id < oldest - 1 or last_id > self._last:
                return None
            if last_id == self._last:
                return []
            skip = last_id - oldest + 1  # ids are consecutive in the deque
            return list(itertools.islice(self._items, skip, None))

    def subscribe(self) -> asyncio.Event:
        """An :class:`asyncio.Event` of the running loop, set at each :meth:`append`."""
        ev = asyncio.Event()
        with self._lock:
            self._waiters[ev] = asyncio.get_running_loop()
        return ev

    def unsubscribe(self, ev: asyncio.Event) -> None:
        with self._lock:
            self._waiters.pop(ev, None)


def _sse(name: str, eid: int | None, data: str) -> str:
    head = f"id: {eid}\n" if eid is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n"


def _coords(geom: Any, nd: int = 2) -> Any:
    return [[round(float(x), nd), round(float(y), nd)] for x, y, *_ in geom.coords]


def _polygon(poly: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [_coords(poly.exterior)] + [_coords(r) for r in poly.interiors]}


def _point(p: Any) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(float(p.x), 2), round(float(p.y), 2)]}


def site_geojson(site: Site) -> dict[str, Any]:
    """The site plan as a GeoJSON FeatureCollection in the site's own metric CRS (x east, y
    north, m; named in the non-standard top-level ``crs`` member, as GeoJSON 2008 did) for the
    operator page's map. Each feature's ``layer`` property says what it is: ``boundary``,
    ``open_space`` (kind, capacity, assembly_point), ``way`` (kind, width_m; the centre line),
    ``grid`` (management grid: worker, buildings), ``building`` (use, storeys, basement_levels,
    households_per_storey, storey_height_m, levels, underground), ``gate`` (kind, access),
    ``device`` (kind, building, level, unit; cameras also yaw_deg, fov_deg, range_m) and
    ``camera_cone`` (the camera's ground view cone, a polygon). ``bounds`` is the boundary's
    [xmin, ymin, xmax, ymax]."""
    feats: list[dict[str, Any]] = []

    def add(layer: str, fid: str, geom: dict[str, Any], **props: Any) -> None:
        feats.append({"type": "Feature", "id": fid, "geometry": geom, "properties": {"layer": layer, **props}})

    add("boundary", "boundary", _polygon(site.boundary), name=site.name)
    for o in site.open_spaces:
        add("open_space", o.id, _polygon(o.polygon), kind=o.kind, capacity=o.capacity,
            assembly_point=o.assembly_point, name=o.name)
    for w in site.ways:
        add("way", w.id, {"type": "LineString", "coordinates": _coords(w.line)}, kind=w.kind,
            width_m=float(w.width_m), name=w.name)
    for g in site.grids:
        add("grid", g.id, _polygon(g.polygon), worker=g.worker, buildings=list(g.buildings))
    for b in site.buildings:
        add("building", b.id, _polygon(b.footprint), name=b.name, use=b.use.value, storeys=b.storeys,
            basement_levels=b.basement_levels, households_per_storey=b.households_per_storey,
            storey_height_m=float(b.storey_height_m), levels=list(b.levels),
            underground=b.storeys == 0)
    for g in site.gates:
        add("gate", g.id, _point(g.position), kind=g.kind, access=g.access, width_m=float(g.width_m), name=g.name)
    for d in site.devices:
        props: dict[str, Any] = {"kind": d.kind.value, "building": d.building, "level": d.level, "unit": d.unit}
        if d.kind == DeviceKind.CAMERA and d.camera is not None:
            c = d.camera
            props.update(yaw_deg=float(c.yaw_deg), fov_deg=float(c.fov_deg), range_m=float(c.range_m))
            add("camera_cone", f"{d.id}#cone", _polygon(c.cone(d.position, segments=8)), device=d.id)
        add("device", d.id, _point(d.position), **props)
    x0, y0, x1, y1 = site.boundary.bounds
    return {"type": "FeatureCollection", "name": site.name, "crs": site.crs or "LOCAL",
            "bounds": [round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)], "features": feats}


def _web_dir() -> Path:
    """``viz/web`` (the operator page's files), found without importing :mod:`viz`."""
    spec = importlib.util.find_spec("viz")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the viz package (the operator page's files) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "web"


class ForecastRequest(BaseModel):
    """Body of ``POST /forecast``. Give ``unit`` (a dwelling unit id such as ``B03-L07-U05``)
    or ``alarm_id``, or neither to use the detector longest in alarm in the live state."""

    model_config = ConfigDict(extra="forbid")

    unit: str | None = None
    alarm_id: str | None = None
    model: Literal["flow", "crowd"] = "flow"
    duration_s: float = Field(default=2400.0, gt=60.0, le=4 * 3600.0)
    growth: Literal["slow", "medium", "fast", "ultrafast"] = "fast"
    peak_kw: float = Field(default=3000.0, gt=0.0, le=50_000.0)
    fuel: str = "kitchen"
    seed: int = Field(default=0, ge=0)


class LiveServer:
    """The live twin's service (module docstring): ``app`` is the FastAPI application; its
    lifespan starts and stops the twin (or call :meth:`start` / :meth:`close`)."""

    def __init__(self, site: Site, site_ref: dict[str, Any], *, store_path: Path, settings: LiveBridgeSettings,
                 tokens: Mapping[str, Principal], realtime: bool, dt: float, alarm_tick_s: float,
                 stream_log_size: int = 10_000) -> None:
        self.site = site
        self.site_ref = site_ref
        self.settings = settings
        self.store_path = store_path
        self.realtime = realtime
        self.registry = DeviceRegistry(store_path, site=site)
        self.raw_store = SqliteEventStore(store_path, lateness_s=settings.lateness_s,
                                          check=self.registry.reject_reason)
        self.alarms = AlarmCenter(store_path, registry=self.registry, site=site)
        self.twin = Twin(site, dt=dt, realtime=realtime, recorder=LiveRecorder(), scenario="live")
        self.mirror = Mirror(self.twin, registry=self.registry, alarms=self.alarms, alarm_tick_s=alarm_tick_s)
        self.live = LiveState()
        self.twin.add(self.mirror)
        self.twin.add(self.live)
        self.store = MirroringStore(self.raw_store, self.mirror)
        self.rebuilt_events = self.live.rebuild(self.raw_store, registry=self.registry, alarms=self.alarms)
        self.changes = ChangeLog(capacity=stream_log_size)
        self.live.add_listener(self._on_live_change)
        self._geojson: bytes | None = None
        self._tokens = {k.encode(): v for k, v in tokens.items()}
        for key in settings.api_keys:
            self._tokens.setdefault(key.encode(), Principal("device", DEVICE_ROLE))
        self.forecasts: dict[str, dict[str, Any]] = {}
        self._forecast_ids = itertools.count(1)
        self._forecast_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.mqtt: Any = None
        self._closed = False
        self.app = self._build_app()

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LiveServer:
        """Start the twin in its background thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run_twin, name="live-twin", daemon=True)
            self._thread.start()
        return self

    def _run_twin(self) -> None:
        try:
            if self.realtime:
                self.twin.run(until=1e15)
            else:  # a plain environment stepped one tick per dt of wall time
                while not self._stop.is_set():
                    self.twin.run(until=self.twin.now + self.twin.dt)
                    self._stop.wait(self.twin.dt)
        except Exception:
            log.exception("the live twin stopped with an error")

    def start_mqtt(self, *, host: str | None = None, port: int | None = None, timeout: float = 10.0,
                   **options: Any) -> Any:
        """Subscribe to the MQTT broker (``settings`` host/port unless given) with
        :class:`live_bridge.mqtt_in.MqttSubscriber`, storing into the mirrored store."""
        from live_bridge.mqtt_in import MqttSubscriber

        hasher = self.settings.plate_hasher() if self.settings.plate_key is not None else None
        sub = MqttSubscriber(self.store, registry=self.registry, host=host or self.settings.mqtt_host,
                             port=int(port or self.settings.mqtt_port), client_id=self.settings.mqtt_client_id,
                             hasher=hasher, **({"username": self.settings.mqtt_username,
                                                "password": self.settings.mqtt_password} | options))
        sub.start(timeout=timeout)
        self.mqtt = sub
        return sub

    def close(self) -> None:
        """Stop MQTT, the twin and close the stores (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.mqtt is not None:
            try:
                self.mqtt.stop()
            except Exception:
                log.exception("stopping the MQTT subscriber failed")
        self._stop.set()
        self.twin.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.raw_store.close()
        self.alarms.close()
        self.registry.close()

    # --- change stream ---------------------------------------------------------------------------
    def _on_live_change(self, event: Event) -> None:
        """LiveState listener (twin thread, state lock held): one :class:`ChangeLog` entry."""
        live = self.live
        if isinstance(event, DeviceStateChanged):
            dev = self.registry.get(event.device)
            try:
                typ = live_type(event.kind, event.state)
            except ValueError:
                typ = ""
            item = {"id": event.event_id, "type": typ, "device": event.device, "kind": event.kind,
                    "state": event.state, "value": event.value, "detail": event.detail,
                    "time": _iso(_from_us(event.observed_us)), "source": event.source,
                    "building": getattr(dev, "building", None), "level": getattr(dev, "level", None),
                    "unit": getattr(dev, "unit", None), "zone": getattr(dev, "zone", None)}
            self.changes.append("device", {"event": item, "device_id": event.device,
                                           "device": live.device(event.device)})
        elif isinstance(event, AlarmStatusChanged):
            rec = live.alarms.get(event.alarm_id)
            if rec is None:  # resolved: gone from the live state
                rec = {"id": event.alarm_id, "rule": event.rule, "state": event.state, "severity": event.severity,
                       "level": event.level, "title": event.title, "device": event.device,
                       "building": event.building, "storey": event.storey, "unit": event.unit, "zone": event.zone,
                       "resolved_by": event.resolved_by}
            self.changes.append("alarm", {"alarm": dict(rec)})
        elif isinstance(event, ZonePeopleCounted):
            zone = event.zone
            rec = {"camera_people": 0, "gate_in": 0, "gate_out": 0, "gate_net": 0}
            for _us, _eid, z, n in live.camera_counts.values():
                if z == zone:
                    rec["camera_people"] += n
            for z, nin, nout in live.gate_counts.values():
                if z == zone:
                    rec["gate_in"] += nin
                    rec["gate_out"] += nout
                    rec["gate_net"] += nin - nout
            self.changes.append("zone", {"zone": zone, "record": rec})
        elif isinstance(event, PatrolPositionReported):
            cur = live.patrols.get(event.patrol)
            if cur is not None:
                us, _eid, pos = cur
                self.changes.append("patrol", {"patrol": event.patrol, "record": {**pos, "time": _iso(_from_us(us))}})

    def stream_snapshot(self) -> tuple[dict[str, Any], int]:
        """The live state and the id of the last change it includes, read consistently (the
        listener appends under the state's lock; the log id is read before and after)."""
        for _ in range(1000):
            head = self.changes.last_id
            snap = self.live.snapshot()
            if self.changes.last_id == head:
                break
        else:  # pragma: no cover - a change on every try
            raise RuntimeError("the live state changes too fast to take a consistent snapshot")
        snap["twin"] = {"t_s": self.twin.now, "running": self.twin.running, "realtime": self.realtime}
        snap["last_id"] = head
        return snap, head

    async def _stream(self, request: Request, resume: int | None) -> AsyncIterator[str]:
        wake = self.changes.subscribe()  # before reading the log: no change falls between
        try:
            yield "retry: 1000\n\n"
            pending = self.changes.since(resume) if resume is not None else None
            cursor = 0
            if pending is None:
                snap, cursor = self.stream_snapshot()
                snap["resync"] = resume is not None
                yield _sse("snapshot", cursor, json.dumps(snap, separators=(",", ":")))
            else:
                cursor = resume if resume is not None else 0
                for eid, name, data in pending:
                    yield _sse(name, eid, data)
                    cursor = eid
            idle = 0.0
            while not self._closed:
                wake.clear()
                items = self.changes.since(cursor)
                if items is None:  # this client fell behind the bounded log: start over
                    snap, cursor = self.stream_snapshot()
                    snap["resync"] = True
                    yield _sse("snapshot", cursor, json.dumps(snap, separators=(",", ":")))
                    continue
                if items:
                    for eid, name, data in items:
                        yield _sse(name, eid, data)
                    cursor = items[-1][0]
                    idle = 0.0
                    continue
                if await request.is_disconnected():
                    break
                try:
                    await asyncio.wait_for(wake.wait(), timeout=1.0)
                except TimeoutError:
                    idle += 1.0
                    if idle >= 15.0:
                        idle = 0.0
                        yield ": keep-alive\n\n"
        finally:
            self.changes.unsubscribe(wake)

    def site_geojson_bytes(self) -> bytes:
        if self._geojson is None:
            self._geojson = json.dumps(site_geojson(self.site), separators=(",", ":")).encode()
        return self._geojson

    # --- auth -------------------------------------------------------------------------------------
    def principal(self, request: Request) -> Principal:
        """The caller, from ``Authorization: Bearer`` or ``X-API-Key``; 401 if none matches."""
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key")
        found: Principal | None = None
        if given:
            g = given.encode("utf-8", errors="replace")
            for tok, p in self._tokens.items():  # every token compared: timing does not tell which
                if hmac.compare_digest(g, tok):
                    found = p
        if found is None:
            raise HTTPException(401, "missing or unknown token (Authorization: Bearer <token> or X-API-Key)",
                                headers={"WWW-Authenticate": "Bearer"})
        return found

    def person(self, request: Request, *, roles: frozenset[str] | None = None, action: str = "read") -> Principal:
        p = self.principal(request)
        if p.role == DEVICE_ROLE:
            raise HTTPException(403, f"a device token may only post events; {action} needs a person's token")
        if roles is not None and p.role not in roles:
            raise HTTPException(403, f"role {p.role!r} may not {action} (allowed: {', '.join(sorted(roles))})")
        return p

    # --- the app ------------------------------------------------------------------------------------
    def _build_app(self) -> FastAPI:
        from live_bridge.http_in import create_app as create_ingest_app

        ingest = create_ingest_app(self.store, self.registry, self.settings)

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            self.start()
            try:
                yield
            finally:
                self.close()

        app = FastAPI(title="Shoumen live twin", version="1.0", lifespan=lifespan)
        srv = self

        @app.get("/state")
        def get_state(request: Request) -> dict[str, Any]:
            """The live state and the twin's clock."""
            srv.person(request)
            out = srv.live.snapshot()
            out["twin"] = {"t_s": srv.twin.now, "running": srv.twin.running, "realtime": srv.realtime,
                           "rebuilt_events": srv.rebuilt_events}
            return out

        @app.get("/alarms")
        def get_alarms(request: Request) -> dict[str, Any]:
            """Open and acknowledged alarms, most urgent first."""
            srv.person(request)
            return {"alarms": [alarm_json(a) for a in srv.alarms.open_alarms()]}

        @app.get("/alarms/{alarm_id}")
        def get_alarm(alarm_id: str, request: Request) -> dict[str, Any]:
            """One alarm with its audit history."""
            srv.person(request)
            try:
                a = srv.alarms.get(alarm_id)
            except KeyError:
                raise HTTPException(404, f"unknown alarm {alarm_id!r}") from None
            out = alarm_json(a)
            out["history"] = [{"time": _iso(h.time), "action": h.action, "actor": h.actor, "role": h.role,
                               "detail": dict(h.detail)} for h in srv.alarms.history(alarm_id)]
            return out

        def alarm_action(alarm_id: str, request: Request, action: str, note: str | None = None) -> dict[str, Any]:
            p = srv.person(request, action=f"{action} alarms")
            try:
                if action == "acknowledge":
                    a = srv.mirror.acknowledge(alarm_id, p.user, p.role)
                else:
                    a = srv.mirror.resolve(alarm_id, p.user, p.role, note or "")
            except PermissionError as exc:
                raise HTTPException(403, str(exc)) from None
            except KeyError:
                raise HTTPException(404, f"unknown alarm {alarm_id!r}") from None
            except AlarmStateError as exc:
                raise HTTPException(409, str(exc)) from None
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            return alarm_json(a)

        @app.post("/alarms/{alarm_id}/ack")
        def ack(alarm_id: str, request: Request) -> dict[str, Any]:
            """Acknowledge as the token's user and role (role-checked by the alarm center)."""
            return alarm_action(alarm_id, request, "acknowledge")

        @app.post("/alarms/{alarm_id}/resolve")
        def resolve(alarm_id: str, request: Request, body: dict[str, Any] | None = Body(default=None)) -> dict[str, Any]:
            """Resolve; body ``{"note": "what was done"}`` (required, non-empty)."""
            note = (body or {}).get("note")
            if not isinstance(note, str):
                srv.person(request, action="resolve alarms")
                raise HTTPException(422, "field 'note': expected a non-empty text saying what was done")
            return alarm_action(alarm_id, request, "resolve", note)

        @app.get("/events")
        def get_events(request: Request, since: str | None = Query(default=None),
                       limit: int = Query(default=1000, ge=1, le=10_000)) -> dict[str, Any]:
            """Stored events with event time >= ``since`` (RFC 3339 with a zone), by event time."""
            srv.person(request)
            t0: datetime | None = None
            if since is not None:
                try:
                    t0 = datetime.fromisoformat(since.replace("Z", "+00:00").replace("z", "+00:00"))
                except ValueError:
                    raise HTTPException(422, f"query 'since': expected an RFC 3339 time such as "
                                             f"2025-03-01T08:15:00Z, got {since!r}") from None
                if t0.tzinfo is None:
                    raise HTTPException(422, f"query 'since': {since!r} has no time zone; add Z or +08:00")
            out = []
            for se in srv.raw_store.iter_events(since=t0):
                out.append({"seq": se.seq, "late": se.late, "arrival": _iso(se.arrival), "event": se.event.to_dict()})
                if len(out) >= limit:
                    break
            return {"events": out, "truncated": len(out) >= limit}

        @app.post("/forecast", status_code=201)
        def post_forecast(request: Request, body: ForecastRequest | None = Body(default=None)) -> dict[str, Any]:
            """"What happens next": fork the live state and run a fire-and-evacuation forecast."""
            srv.person(request, roles=_FORECAST_ROLES, action="run forecasts")
            return srv.forecast(body or ForecastRequest())

        @app.get("/forecast/{forecast_id}")
        def get_forecast(forecast_id: str, request: Request) -> dict[str, Any]:
            """A forecast made earlier."""
            srv.person(request)
            f = srv.forecasts.get(forecast_id)
            if f is None:
                raise HTTPException(404, f"unknown forecast {forecast_id!r}")
            return f

        @app.get("/me")
        def get_me(request: Request) -> dict[str, Any]:
            """The caller's user and role (the operator page shows them after login)."""
            p = srv.person(request)
            return {"user": p.user, "role": p.role, "may_forecast": p.role in _FORECAST_ROLES}

        @app.get("/site.geojson")
        def get_site_geojson(request: Request) -> Response:
            """The site plan for the operator's map (:func:`site_geojson`)."""
            srv.person(request)
            return Response(srv.site_geojson_bytes(), media_type="application/geo+json")

        @app.get("/stream")
        async def get_stream(request: Request, last_event_id: str | None = Query(default=None)) -> StreamingResponse:
            """Server-Sent Events: a snapshot, then the live state's changes (module docstring)."""
            srv.person(request)
            given = request.headers.get("last-event-id") or last_event_id
            resume: int | None = None
            if given:
                try:
                    resume = int(given)
                except ValueError:
                    raise HTTPException(422, f"Last-Event-ID: expected an event id (an integer) from this stream, "
                                             f"got {given[:40]!r}") from None
            return StreamingResponse(srv._stream(request, resume), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

        web = _web_dir()

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            """The operator page."""
            return FileResponse(web / "index.html", media_type="text/html")

        app.mount("/static", StaticFiles(directory=web, check_dir=False), name="static")
        app.mount("/", ingest)  # POST /events, POST /events:batch, GET /healthz
        return app

    # --- forecast -------------------------------------------------------------------------------------
    def fork_live_state(self, *, timeout: float = 5.0) -> tuple[float, LiveState]:
        """A copy of the live state at a tick boundary of the running twin (its sim time, state)."""
        if self.twin.running:
            snap = self.twin.request_snapshot().result(timeout=timeout)
        else:
            snap = self.twin.snapshot()
        return snap.t, LiveState.from_state(snap.components[self.live.name])

    def _unit_where(self, unit: str, field: str) -> tuple[str, int]:
        m = _UNIT_RE.match(unit)
        if m is None:
            raise HTTPException(422, f"field '{field}': {unit!r} is not a dwelling unit id (like B03-L07-U05)")
        b, lv = m.group("b"), int(m.group("lv"))
        try:
            bld = self.site.building(b)
        except KeyError:
            raise HTTPException(422, f"field '{field}': building {b!r} of {unit!r} does not exist") from None
        if lv not in bld.levels or unit not in bld.unit_ids(lv):
            raise HTTPException(422, f"field '{field}': {unit!r} is not a dwelling unit of building {b}")
        return b, lv

    def forecast(self, req: ForecastRequest) -> dict[str, Any]:
        """Run one forecast (module docstring) and keep it under its id."""
        from scenarios.run import run_scenario
        from scenarios.schema import (
            EvacuationSpec,
            HazardSpec,
            OutputSpec,
            PopulationSpec,
            Scenario,
            SiteRef,
        )

        twin_t, fork = self.fork_live_state()
        now = datetime.now(UTC)
        detector: str | None = None
        alarm_time: datetime | None = None
        if req.unit is not None:
            unit = req.unit
            self._unit_where(unit, "unit")
            field = "unit"
        elif req.alarm_id is not None:
            try:
                a = self.alarms.get(req.alarm_id)
            except KeyError:
                raise HTTPException(404, f"field 'alarm_id': unknown alarm {req.alarm_id!r}") from None
            if a.unit is None:
                raise HTTPException(422, f"field 'alarm_id': alarm {a.id} ({a.title}) is not about a dwelling unit")
            unit, detector, alarm_time, field = a.unit, a.device, a.raised, "alarm_id"
        else:
            unit = ""
            for dev_id in fork.devices_in("alarm"):
                dev = self.registry.get(dev_id)
                if dev is not None and dev.unit and dev.kind in ("smoke_detector", "heat_detector"):
                    unit, detector, field = dev.unit, dev_id, "live state"
                    break
            if not unit:
                raise HTTPException(409, "no smoke or heat detector of a flat is in alarm in the live state; "
                                         "give 'unit' or 'alarm_id'")
        building, _level = self._unit_where(unit, field)
        if detector is None:  # the flat's own detector, when it is in alarm
            for dev_id in fork.devices_in("alarm"):
                dev = self.registry.get(dev_id)
                if dev is not None and dev.unit == unit:
                    detector = dev_id
                    break
        if detector is not None and alarm_time is None:
            rec = fork.device(detector)
            if rec is not None and rec["state"] == "alarm" and rec["state_time"]:
                alarm_time = datetime.fromisoformat(rec["state_time"].replace("Z", "+00:00"))
        others = sorted({d.unit for d in (self.registry.get(x) for x in fork.devices_in("alarm"))
                         if d is not None and d.unit and d.building == building and d.unit != unit})
        local = (alarm_time or now) + timedelta(hours=self.alarms.settings.utc_offset_h)
        hhmm = f"{local.hour:02d}:{local.minute:02d}"
        scenario = Scenario(
            name=f"forecast-{unit}",
            description=f"What happens next: fire in {unit} forked from the live twin at {_iso(now)}",
            site=SiteRef(**self.site_ref), seed=req.seed, duration_s=req.duration_s, dt_s=1.0,
            population=PopulationSpec(time_of_day=hhmm, buildings=[building]), alarm=None,
            hazards=[HazardSpec(type="fire", at_s=0.0, unit=unit,
                                params={"growth": req.growth, "peak_kw": req.peak_kw, "fuel": req.fuel})],
            evacuation=EvacuationSpec(model=req.model, targets="assembly",
                                      exit_choice="quickest" if req.model == "crowd" else "nearest"),
            outputs=OutputSpec(fields=False, scene=False, site_map=False))
        with self._forecast_lock:  # one at a time: they are CPU-bound
            t0 = time.perf_counter()
            result = run_scenario(scenario, base_dir=Path("."))
            wall = time.perf_counter() - t0
        fire = result.metrics.get("fire", {}).get(building, {})
        elapsed = None if alarm_time is None else max(0.0, (now - alarm_time).total_seconds())
        aset = fire.get("aset_escape_route_s")
        det = fire.get("first_detection_s")
        remaining = (None if aset is None or det is None or elapsed is None else round(aset - det - elapsed, 1))
        fid = f"F-{next(self._forecast_ids):06d}"
        out = {
            "id": fid, "created": _iso(now), "unit": unit, "building": building, "model": req.model,
            "scenario": scenario.name, "seed": req.seed, "duration_s": req.duration_s,
            "fire_params": {"growth": req.growth, "peak_kw": req.peak_kw, "fuel": req.fuel},
            "time_of_day": hhmm, "wall_s": round(wall, 3),
            "live": {"twin_time_s": twin_t, "detector": detector, "alarm_time": _iso(alarm_time) if alarm_time else None,
                     "elapsed_since_alarm_s": None if elapsed is None else round(elapsed, 1),
                     "other_units_in_alarm": others},
            "aset_s": aset, "rset_95_s": fire.get("rset_95_s"), "rset_100_s": fire.get("rset_100_s"),
            "margin_95_s": fire.get("margin_95_s"), "margin_100_s": fire.get("margin_100_s"),
            "first_detection_s": det, "alarm_s": fire.get("alarm_s"), "aset_remaining_s": remaining,
            "first_untenable": fire.get("first_untenable", []),
            "evacuation": result.metrics.get("buildings", {}).get(building, {}),
            "fire": fire,
        }
        self.forecasts[fid] = out
        return out


def _from_us(us: int) -> datetime | None:
    return None if us <= 0 else datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def alarm_json(a: Alarm) -> dict[str, Any]:
    """An alarm as JSON-able data (times RFC 3339 UTC)."""
    return {"id": a.id, "rule": a.rule, "key": a.key, "severity": a.severity, "priority": a.priority,
            "state": a.state, "level": a.level, "level_since": _iso(a.level_since), "raised": _iso(a.raised),
            "last_seen": _iso(a.last_seen), "count": a.count, "title": a.title, "device": a.device,
            "building": a.building, "storey": a.storey, "unit": a.unit, "zone": a.zone, "service": a.service,
            "detail": dict(a.detail), "acknowledged_by": a.acknowledged_by, "acknowledged_role": a.acknowledged_role,
            "acknowledged_at": _iso(a.acknowledged_at), "resolved_by": a.resolved_by,
            "resolved_role": a.resolved_role, "resolved_at": _iso(a.resolved_at), "note": a.note}


def _load_site(site: Site | str | Path) -> tuple[Site, dict[str, Any]]:
    if isinstance(site, Site):
        raise TypeError("create_server: give the site as 'sample' or a site file path (the forecast's scenario "
                        "refers to it), not a Site object")
    if str(site) == "sample":
        from geometry.sample import sample_community

        return sample_community(), {"sample": True}
    path = Path(site).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"create_server: site file {path} not found")
    from scenarios.builder import read_any_site

    return read_any_site(path), {"file": str(path)}


def create_server(site: str | Path = "sample", *, store_path: str | Path, settings: LiveBridgeSettings,
                  realtime: bool = True, tokens: Mapping[str, Principal] | None = None, dt: float = 0.5,
                  alarm_tick_s: float = 5.0, stream_log_size: int = 10_000) -> LiveServer:
    """The live twin service over ``site`` (``"sample"`` or a site file) and the SQLite file
    ``store_path`` (module docstring). ``settings.api_keys`` are the device (ingest) keys --
    at least one is needed; ``tokens`` the people's tokens (default: ``SHOUMEN_TOKENS``).
    ``realtime`` paces the twin with a ``RealtimeEnvironment`` (tick ``dt`` s); False steps a
    plain environment one tick per ``dt`` of wall time. ``stream_log_size`` is how many changes
    ``GET /stream`` keeps for clients that reconnect. Serve ``server.app`` with uvicorn: its
    lifespan starts the twin and closes everything at shutdown."""
    if not settings.api_keys:
        raise ValueError("create_server: no device API keys; set SHOUMEN_API_KEYS (comma-separated, 16+ characters)")
    if tokens is None:
        tokens = parse_tokens(os.environ.get("SHOUMEN_TOKENS", ""))
    bad = [p.role for p in tokens.values() if p.role not in ROLES]
    if bad:
        raise ValueError(f"create_server: token role(s) {bad} are not among {', '.join(ROLES)}")
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"create_server: dt must be a positive number of seconds, got {dt!r}")
    s, ref = _load_site(site)
    return LiveServer(s, ref, store_path=Path(store_path), settings=settings, tokens=tokens,
                      realtime=realtime, dt=float(dt), alarm_tick_s=alarm_tick_s, stream_log_size=stream_log_size)


def serve_main(*, site: str | Path = "sample", host: str = "127.0.0.1", port: int = 8080,
               store_path: str | Path | None = None, mqtt_host: str | None = None, mqtt_port: int | None = None,
               mqtt: bool = True, require_mqtt: bool = False, tokens: Mapping[str, Principal] | None = None,
               log_level: str = "info") -> None:
    """``shoumen serve``: the live twin service on ``host``:``port`` until interrupted. Settings
    come from the ``SHOUMEN_*`` environment (:class:`LiveBridgeSettings`, ``SHOUMEN_TOKENS``);
    the arguments override the store path and the broker. With ``mqtt`` the MQTT subscriber is
    started; a broker that cannot be reached is logged and the service runs on HTTP ingest only
    (``require_mqtt=True`` makes it an error)."""
    import uvicorn

    settings = LiveBridgeSettings.from_env()
    srv = create_server(site, store_path=store_path or settings.db_path, settings=settings, tokens=tokens)
    srv.start()
    if mqtt:
        from live_bridge.mqtt_in import MqttIngestError

        try:
            srv.start_mqtt(host=mqtt_host, port=mqtt_port)
        except MqttIngestError as exc:
            if require_mqtt:
                srv.close()
                raise
            log.warning("MQTT ingest not started: %s", exc)
    try:
        # open /stream responses would hold a graceful shutdown forever; clients resume anyway
        uvicorn.run(srv.app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=3)
    finally:
        srv.close()
