"""The device registry: which device may send which live event, and where it is.

Each registered device id maps to a site entity (:class:`RegisteredDevice`: kind, building,
storey, unit, zone = management grid, position in local metres, camera optics). The registry
is seeded from a :class:`geometry.site.Site` -- its field devices, its gates (kind
``access_gate``) and its grid workers (kind ``grid_worker``) -- and devices can be added,
updated and removed at run time (patrol trackers, replacement detectors). Everything is
persisted in the ``devices`` table of the same SQLite database as the event store; once a
database exists it is the truth: reopening with the site adds only site devices the database
has never seen, so updates and removals survive a restart (removals are kept as tombstones).

:meth:`DeviceRegistry.check` says whether an event's ``subject`` is a known device of a kind
that can send the event's type (:data:`EVENT_SOURCE_KINDS`); :meth:`reject_reason` is the
callable to pass as ``SqliteEventStore(check=...)`` so refused events are dead-lettered and
counted, never silently dropped.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator

from shapely.geometry import Point

from geometry.site import CameraSpec, DeviceKind, Site
from live_bridge.store import open_connection
from live_bridge.vocabulary import EVENT_DATA, LiveEvent

__all__ = ["EVENT_SOURCE_KINDS", "SOURCE_KINDS", "DeviceCheck", "DeviceRegistry", "RegisteredDevice", "RegistryError"]

#: Kinds of event source: the site's device kinds plus gates, patrol trackers and grid workers.
SOURCE_KINDS: tuple[str, ...] = tuple(k.value for k in DeviceKind) + ("access_gate", "patrol_tracker", "grid_worker")

_KIND_TEXT = {
    "camera": "a camera", "smoke_detector": "a smoke detector", "heat_detector": "a heat detector",
    "door_sensor": "a door sensor", "water_level": "a water-level sensor", "manhole": "a manhole-cover sensor",
    "emergency_button": "an emergency button", "wristband": "a wristband", "access_gate": "an access gate",
    "patrol_tracker": "a patrol tracker", "grid_worker": "a grid worker",
}


def _family_kinds(type_name: str) -> tuple[str, ...]:
    family = type_name.split(".")[2]
    return {
        "smoke": ("smoke_detector", "heat_detector"),
        "door": ("door_sensor",),
        "water": ("water_level",),
        "manhole": ("manhole",),
        "button": ("emergency_button",),
        "wristband": ("wristband",),
        "camera": ("camera",),
        "patrol": ("patrol_tracker",),
        "grid": ("grid_worker",),
        "gate": ("access_gate",),
    }[family]


#: Device kinds allowed to send each event type.
EVENT_SOURCE_KINDS: dict[str, tuple[str, ...]] = {t: _family_kinds(t) for t in EVENT_DATA}

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")


class RegistryError(ValueError):
    """A registration that breaks the rules; ``problems`` names each field and what was expected."""

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        head = f"{source}: " if source else ""
        msg = self.problems[0] if len(self.problems) == 1 else (
            f"{len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems))
        super().__init__(head + msg)


@dataclass(frozen=True)
class RegisteredDevice:
    """A device the bridge accepts events from. ``level`` is the storey (0 ground, negative
    basements); ``zone`` the management grid id; ``x``, ``y``, ``z`` local metres."""

    id: str
    kind: str
    building: str | None = None
    level: int | None = None
    unit: str | None = None
    zone: str | None = None
    x: float | None = None
    y: float | None = None
    z: float = 0.0
    camera: CameraSpec | None = None


@dataclass(frozen=True)
class DeviceCheck:
    """Result of :meth:`DeviceRegistry.check`: ``device`` when known and allowed, else
    ``reason``."""

    ok: bool
    device: RegisteredDevice | None
    reason: str = ""


_TABLE = """
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, building TEXT, level INTEGER, unit TEXT, zone TEXT,
    x REAL, y REAL, z REAL NOT NULL DEFAULT 0, camera TEXT, origin TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
"""


def _grid_of(site: Site, building: str | None, pos: Point | None) -> str | None:
    if building is not None:
        for g in site.grids:
            if building in g.buildings:
                return g.id
    if pos is not None:
        for g in site.grids:
            if g.polygon.covers(pos):
                return g.id
    return None


def site_devices(site: Site) -> list[RegisteredDevice]:
    """The registry entries a site implies: its devices, gates and grid workers."""
    out: list[RegisteredDevice] = []
    for d in site.devices:
        out.append(RegisteredDevice(id=d.id, kind=d.kind.value, building=d.building, level=d.level, unit=d.unit,
                                    zone=_grid_of(site, d.building, d.position), x=float(d.position.x),
                                    y=float(d.position.y), z=float(d.z), camera=d.camera))
    for g in site.gates:
        out.append(RegisteredDevice(id=g.id, kind="access_gate", zone=_grid_of(site, None, g.position),
                                    x=float(g.position.x), y=float(g.position.y)))
    seen = {d.id for d in out}
    for g in site.grids:
        if g.worker and g.worker not in seen:
            seen.add(g.worker)
            out.append(RegisteredDevice(id=g.worker, kind="grid_worker", zone=g.id))
    return out


class DeviceRegistry:
    """Device id -> :class:`RegisteredDevice`, persisted in the SQLite file ``path`` (the event
    store's). ``site`` seeds it and lets registrations be checked against buildings, levels,
    units and grids. Thread-safe."""

    def __init__(self, path: str | Path, *, site: Site | None = None) -> None:
        self.path = Path(path)
        self.site = site
        self._lock = threading.RLock()
        self._con = open_connection(self.path)
        self._con.executescript(_TABLE)
        if site is not None:
            rows = [self._row(d, "site") for d in site_devices(site)]
            self._con.execute("BEGIN IMMEDIATE")
            self._con.executemany("INSERT OR IGNORE INTO devices VALUES (?,?,?,?,?,?,?,?,?,?,?,0)", rows)
            self._con.execute("COMMIT")
        self._devices: dict[str, RegisteredDevice] = {}
        for r in self._con.execute("SELECT id, kind, building, level, unit, zone, x, y, z, camera FROM devices "
                                   "WHERE removed = 0"):
            cam = CameraSpec(**json.loads(r[9])) if r[9] else None
            self._devices[r[0]] = RegisteredDevice(*r[:9], camera=cam)

    # ------------------------------------------------------------------ look-ups
    def __len__(self) -> int:
        return len(self._devices)

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._devices

    def __iter__(self) -> Iterator[RegisteredDevice]:
        return iter(list(self._devices.values()))

    def get(self, device_id: str) -> RegisteredDevice | None:
        return self._devices.get(device_id)

    def check(self, event: LiveEvent) -> DeviceCheck:
        """Is ``event.subject`` a registered device of a kind that sends ``event.type``?"""
        dev = self._devices.get(event.subject)
        if dev is None:
            return DeviceCheck(False, None, f"unknown device {event.subject!r}")
        allowed = EVENT_SOURCE_KINDS.get(event.type, ())
        if dev.kind not in allowed:
            need = " or ".join(_KIND_TEXT[k].split(" ", 1)[1] if i else _KIND_TEXT[k] for i, k in enumerate(allowed))
            return DeviceCheck(False, dev, f"device {dev.id!r} is {_KIND_TEXT.get(dev.kind, dev.kind)}; "
                                           f"a {event.type} event needs {need}")
        if event.type == "cn.shoumen.camera.thrown_object" and self.site is not None:
            b = getattr(event.data, "building", None) or dev.building
            if b is not None:
                try:
                    levels = self.site.building(b).levels
                except KeyError:
                    return DeviceCheck(False, dev, f"field 'data.building': building {b!r} does not exist")
                storey = getattr(event.data, "storey")
                if storey not in levels:
                    return DeviceCheck(False, dev, f"field 'data.storey': {storey} is not a storey of building {b} "
                                                   f"({levels.start}..{levels.stop - 1})")
        return DeviceCheck(True, dev)

    def reject_reason(self, event: LiveEvent) -> str | None:
        """None when :meth:`check` passes, else its reason (for ``SqliteEventStore(check=...)``)."""
        c = self.check(event)
        return None if c.ok else c.reason

    # ------------------------------------------------------------------ registration
    def add(self, device: RegisteredDevice) -> RegisteredDevice:
        """Register a new device; RegistryError if the id is taken or a field is invalid."""
        with self._lock:
            if device.id in self._devices:
                raise RegistryError([f"device {device.id}: field 'id' is already registered "
                                     f"({self._devices[device.id].kind}); use update()"])
            self._validate(device)
            self._write(device)
            return device

    def update(self, device: RegisteredDevice) -> RegisteredDevice:
        """Replace a registered device's entry; RegistryError if unknown or invalid."""
        with self._lock:
            if device.id not in self._devices:
                raise RegistryError([f"device {device.id}: not registered; use add()"])
            self._validate(device)
            self._write(device)
            return device

    def remove(self, device_id: str) -> None:
        """Unregister ``device_id`` (kept as a tombstone so a reopen with the site does not
        bring it back); RegistryError if unknown. Its later events are rejected."""
        with self._lock:
            if device_id not in self._devices:
                raise RegistryError([f"device {device_id}: not registered"])
            self._con.execute("BEGIN IMMEDIATE")
            self._con.execute("UPDATE devices SET removed = 1, origin = 'registered' WHERE id = ?", (device_id,))
            self._con.execute("COMMIT")
            del self._devices[device_id]

    def close(self) -> None:
        self._con.close()

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _row(d: RegisteredDevice, origin: str) -> tuple:
        cam = json.dumps(asdict(d.camera)) if d.camera is not None else None
        return (d.id, d.kind, d.building, d.level, d.unit, d.zone, d.x, d.y, d.z, cam, origin)

    def _write(self, d: RegisteredDevice) -> None:
        self._con.execute("BEGIN IMMEDIATE")
        self._con.execute("INSERT OR REPLACE INTO devices VALUES (?,?,?,?,?,?,?,?,?,?,?,0)", self._row(d, "registered"))
        self._con.execute("COMMIT")
        self._devices[d.id] = d

    def _validate(self, d: RegisteredDevice) -> None:
        w = f"device {d.id!r}"
        p: list[str] = []
        if not isinstance(d.id, str) or not _ID.match(d.id):
            p.append(f"{w}: field 'id' must be 1-200 characters of letters, digits and ._:@- (starting with a "
                     f"letter or digit)")
        if d.kind not in SOURCE_KINDS:
            p.append(f"{w}: field 'kind' must be one of {', '.join(SOURCE_KINDS)}; got {d.kind!r}")
        for fld in ("x", "y"):
            v = getattr(d, fld)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v != v):
                p.append(f"{w}: field '{fld}' must be a number (local metres), got {v!r}")
        if (d.x is None) != (d.y is None):
            p.append(f"{w}: fields 'x' and 'y' must be given together")
        if d.level is not None and (isinstance(d.level, bool) or not isinstance(d.level, int)):
            p.append(f"{w}: field 'level' must be an integer storey, got {d.level!r}")
        if d.kind == "camera" and d.camera is None:
            p.append(f"{w}: a camera needs its optics (field 'camera': CameraSpec)")
        if d.kind != "camera" and d.camera is not None:
            p.append(f"{w}: field 'camera' is only for cameras (kind is {d.kind!r})")
        if d.unit is not None and d.building is None:
            p.append(f"{w}: field 'unit' needs field 'building'")
        s = self.site
        if s is not None and not p:
            if d.building is not None:
                try:
                    b = s.building(d.building)
                except KeyError:
                    p.append(f"{w}: field 'building' refers to building {d.building!r}, which does not exist")
                else:
                    if d.level is not None and d.level not in b.levels:
                        p.append(f"{w}: field 'level' {d.level} is not a storey of building {b.id} "
                                 f"({b.levels.start}..{b.levels.stop - 1})")
                    if d.unit is not None and (d.level is None or d.unit not in b.unit_ids(d.level)):
                        p.append(f"{w}: field 'unit' {d.unit!r} is not a dwelling unit of {b.id} level {d.level}")
            if d.zone is not None and d.zone not in {g.id for g in s.grids}:
                p.append(f"{w}: field 'zone' must be a grid id ({', '.join(g.id for g in s.grids)}); got {d.zone!r}")
        if p:
            raise RegistryError(p)
