"""Alarm rules over the live event stream, and the settings of the alarm lifecycle.

Rules turn :class:`~live_bridge.vocabulary.LiveEvent` s (in event-time order) and the passage of
event time (``on_tick``) into :class:`Trigger` s; :class:`live_bridge.alarms.AlarmCenter` folds
triggers into alarms, escalates and audits them. Rules never read the wall clock: every time
is an event time or the ``now`` of a tick, in integer microseconds since the Unix epoch (UTC),
so a replay of the same events gives the same alarms. Each rule keeps its state as a small
JSON-able key/value map (:attr:`Rule.state`) that the alarm center persists, so time-based rules
survive a restart.

Severity is the domain's four-colour risk grading (domain.md, practice 9): ``red`` (extreme) >
``orange`` (high) > ``yellow`` (medium) > ``blue`` (low).

Rules and the severities they give (sources; "assumption" where domain.md gives no figure):

=================================== ========= =====================================================
trigger                             severity  notes
=================================== ========= =====================================================
smoke/heat alarm, flat of an        red       starts at emergency services (119) at once, priority
elderly person living alone                   100 (outranks every other alarm); family, doctor,
                                              grid worker and community office notified with the
                                              fastest route (domain.md practices 7, 8)
smoke alarm, heat sensing, or a     red       a confirmed fire (assumption: two detectors or heat)
second detector of the building
within ``smoke_confirm_s``
smoke alarm, single detector        orange    unconfirmed (cooking smoke is the common false
                                              alarm; assumption); community office and the flat's
                                              family notified at once (practice 7: "the centre and
                                              the family's phones within ~10 s")
emergency button, wristband SOS,    red       elderly emergency (practice 8); family, doctor, grid
wristband fall (confidence >=                 worker + route; medical service 120
``fall_confidence_red`` or unknown)
wristband fall, low confidence      orange
heart rate out of band              orange    family and doctor notified
no activity >= ``no_activity_hours``orange    elderly living alone (practice 8: 12 h -> family,
(wristband event, or no activity              community doctor, grid worker, fastest route);
event from the flat)                          yellow when the flat is not flagged elderly-alone
water level >= threshold            orange    red at >= 2 x threshold (basement flooding,
                                              practice 5); threshold from the event or
                                              ``water_threshold_m`` (assumption 0.15 m)
manhole cover displaced             orange    a hole in a road or lane (practice 7)
door forced                         orange    burglary (theft is the top worry, 68 %); police 110
camera intrusion                    orange    police 110
object thrown from height           orange    practice 1 (45 % worry)
camera fall (public space)          orange    medical 120
camera crowding                     yellow    "abnormal gathering" (practice 1)
perimeter loitering at night        yellow    orange when the same person/plate/spot is seen on
                                              >= ``repeat_nights`` nights within
                                              ``nights_window_days`` (practice 1)
zombie car (in > ``zombie_days``)   yellow    practice 2; N an assumption (7 days)
grid-worker hazard report           as given  else yellow (practice 3)
=================================== ========= =====================================================

Escalation timings (``escalation_s``, seconds an unacknowledged alarm may stay at each level
before it moves up: property -> grid worker -> community office -> emergency services), all
assumptions built around domain.md's figures:

* red ``(60, 120, 300)``: emergency services after 8 min, inside the 15-minute emergency
  response target (domain.md, "Targets").
* orange ``(300, 600, 900)``: community office after 15 min, emergency services after 30 min --
  domain.md reports responses over 30 min where alerts only reached the property group.
* yellow ``(1800, 5400, None)``: grid worker after 30 min, community office after 2 h (the
  2-hour work-order fix target, practice 3); never emergency services.
* blue ``(7200, None, None)``: grid worker after 2 h; no further.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Protocol

import networkx as nx

from agents.demographics import STAIR_ASCENT_M_S, WEIDMANN_FREE_SPEED_M_S
from geometry.navgraph import route as nav_route
from geometry.site import BuildingUse, Site
from live_bridge.residents import ResidentRegister
from live_bridge.vocabulary import LiveEvent

__all__ = [
    "LEVELS",
    "SEVERITIES",
    "SEVERITY_RANK",
    "AlarmSettings",
    "DeviceAlarmRule",
    "ElderlyNoActivityRule",
    "PerimeterLoiteringRule",
    "Recipient",
    "ResponderPositions",
    "RoutePlanner",
    "Rule",
    "RuleContext",
    "Trigger",
    "ZombieCarRule",
    "default_rules",
    "utc_us",
]

#: Four-colour severities, highest first (domain.md, practice 9).
SEVERITIES: tuple[str, ...] = ("red", "orange", "yellow", "blue")
SEVERITY_RANK: dict[str, int] = {"red": 4, "orange": 3, "yellow": 2, "blue": 1}
#: Escalation levels, lowest first.
LEVELS: tuple[str, ...] = ("property", "grid_worker", "community_office", "emergency_services")

_US = 1_000_000
_HOUR_US = 3600 * _US
_DAY_US = 24 * _HOUR_US

FIRE, MEDICAL, POLICE = "119", "120", "110"


def _default_escalation() -> dict[str, tuple[float | None, float | None, float | None]]:
    return {"red": (60.0, 120.0, 300.0), "orange": (300.0, 600.0, 900.0),
            "yellow": (1800.0, 5400.0, None), "blue": (7200.0, None, None)}


@dataclass(frozen=True)
class AlarmSettings:
    """Settings of alarms and rules (module docstring for the sources). Times in s unless the
    name says hours or days; ``utc_offset_h`` the local time zone (China Standard Time, UTC+8,
    has no daylight saving)."""

    escalation_s: Mapping[str, tuple[float | None, float | None, float | None]] = field(
        default_factory=_default_escalation)
    fold_window_s: float = 1800.0
    no_activity_hours: float = 12.0
    zombie_days: float = 7.0
    night_start_h: float = 22.0
    night_end_h: float = 6.0
    utc_offset_h: float = 8.0
    loiter_min_dwell_s: float = 60.0
    repeat_nights: int = 2
    nights_window_days: int = 7
    plate_loiter_gap_s: float = 300.0
    perimeter_band_m: float = 15.0
    perimeter_cameras: frozenset[str] = frozenset()
    perimeter_zones: frozenset[str] = frozenset({"perimeter"})
    water_threshold_m: float = 0.15
    fall_confidence_red: float = 0.5
    smoke_confirm_s: float = 300.0
    property_contact: str = "property-desk"
    office_contact: str = "community-office"
    default_grid_worker: str = "grid-worker"

    def __post_init__(self) -> None:
        p: list[str] = []
        for sev in SEVERITIES:
            steps = self.escalation_s.get(sev)
            if steps is None or len(steps) != 3:
                p.append(f"escalation_s[{sev!r}]: expected 3 entries (s at property, grid_worker, "
                         f"community_office; None = stays), got {steps!r}")
                continue
            for lv, s in zip(LEVELS, steps):
                if s is not None and not (isinstance(s, (int, float)) and math.isfinite(s) and s >= 0):
                    p.append(f"escalation_s[{sev!r}] at {lv}: expected seconds >= 0 or None, got {s!r}")
        extra = set(self.escalation_s) - set(SEVERITIES)
        if extra:
            p.append(f"escalation_s: unknown severities {sorted(extra)}; expected {', '.join(SEVERITIES)}")
        for name in ("fold_window_s", "no_activity_hours", "zombie_days", "loiter_min_dwell_s",
                     "plate_loiter_gap_s", "perimeter_band_m", "water_threshold_m", "smoke_confirm_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                p.append(f"{name}: expected a number >= 0, got {v!r}")
        for name in ("night_start_h", "night_end_h"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0 <= v < 24):
                p.append(f"{name}: expected an hour in [0, 24), got {v!r}")
        if not (isinstance(self.repeat_nights, int) and self.repeat_nights >= 1):
            p.append(f"repeat_nights: expected an integer >= 1, got {self.repeat_nights!r}")
        if not (isinstance(self.nights_window_days, int) and self.nights_window_days >= 1):
            p.append(f"nights_window_days: expected an integer >= 1, got {self.nights_window_days!r}")
        if not 0 <= self.fall_confidence_red <= 1:
            p.append(f"fall_confidence_red: expected 0..1, got {self.fall_confidence_red!r}")
        if p:
            raise ValueError("alarm settings: " + "; ".join(p))

    def local_hour(self, time_us: int) -> tuple[int, float]:
        """(local day number since the epoch, hour of day 0..24) of an event time."""
        local = time_us + int(round(self.utc_offset_h * _HOUR_US))
        return local // _DAY_US, (local % _DAY_US) / _HOUR_US

    def night_of(self, time_us: int) -> int | None:
        """The local day number on which the night containing ``time_us`` began, or None by day."""
        day, h = self.local_hour(time_us)
        s, e = self.night_start_h, self.night_end_h
        if s > e:  # the night wraps midnight
            if h >= s:
                return day
            if h < e:
                return day - 1
            return None
        return day if s <= h < e else None


@dataclass(frozen=True)
class Recipient:
    """Who is notified: a contact id, their role in the response and the channel (records only;
    nothing is sent)."""

    who: str
    role: str
    channel: str


@dataclass(frozen=True)
class Trigger:
    """One firing of a rule: folded by the alarm center on ``(rule, key)`` into one alarm."""

    rule: str
    key: str
    severity: str
    title: str
    time_us: int
    event_id: str | None = None
    device: str | None = None
    building: str | None = None
    storey: int | None = None
    unit: str | None = None
    zone: str | None = None
    start_level: str = "property"
    priority: int = 0
    service: str | None = None
    notify: tuple[Recipient, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)
    want_route: bool = False


class _Lookup(Protocol):
    def get(self, device_id: str) -> Any: ...


class RoutePlanner:
    """Fastest routes on a navigation graph (:func:`geometry.navgraph.build_nav_graph`) from the
    community office and from known responder positions to a flat. Travel time per edge: length
    over ``walk_m_s`` (Weidmann's 1.34 m/s free speed), stair edges over ``stair_m_s`` (0.5 m/s,
    the middle of Fruin's / SFPE's 0.4-0.6 m/s ascent range: a rescuer goes up)."""

    def __init__(self, graph: nx.Graph, *, office_node: str | None = None,
                 walk_m_s: float = WEIDMANN_FREE_SPEED_M_S,
                 stair_m_s: float = sum(STAIR_ASCENT_M_S) / 2) -> None:
        if office_node is not None and office_node not in graph:
            raise ValueError(f"office_node {office_node!r} is not a node of the navigation graph")
        if walk_m_s <= 0 or stair_m_s <= 0:
            raise ValueError("walk_m_s and stair_m_s must be positive speeds (m/s)")
        self.graph = graph
        self.office_node = office_node
        self.walk_m_s = float(walk_m_s)
        self.stair_m_s = float(stair_m_s)
        self._outdoor = [n for n, k in graph.nodes(data="kind") if k in ("path", "gate", "exit")]
        self._xy = [(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in self._outdoor]

    @classmethod
    def for_site(cls, site: Site, graph: nx.Graph) -> "RoutePlanner":
        """The office is the first exit of the site's first community-centre building (the
        community service centre, ``C01`` in the sample estate), if there is one."""
        office = None
        for b in site.buildings:
            if b.use == BuildingUse.COMMUNITY_CENTRE and b.exits and b.exits[0].id in graph:
                office = b.exits[0].id
                break
        return cls(graph, office_node=office)

    def _time(self, u: str, v: str, d: Mapping[str, Any]) -> float:
        return float(d["length_m"]) / (self.stair_m_s if d.get("kind") == "stair" else self.walk_m_s)

    def nearest_node(self, x: float, y: float) -> str:
        """The outdoor node (way junction, gate or building exit) nearest to (x, y)."""
        best = min(range(len(self._xy)), key=lambda i: (self._xy[i][0] - x) ** 2 + (self._xy[i][1] - y) ** 2)
        return self._outdoor[best]

    def route_from(self, source: str, unit: str, *, label: str) -> dict[str, Any] | None:
        try:
            nodes = nav_route(self.graph, source, unit, weight=self._time)
        except nx.NetworkXNoPath:
            return None
        length = sum(float(self.graph.edges[a, b]["length_m"]) for a, b in zip(nodes, nodes[1:]))
        t = sum(self._time(a, b, self.graph.edges[a, b]) for a, b in zip(nodes, nodes[1:]))
        return {"from": label, "from_node": source, "nodes": nodes, "length_m": round(length, 2),
                "time_s": round(t, 1)}

    def plan(self, unit: str, *, responders: Mapping[str, tuple[float, float]] | None = None) -> dict[str, Any] | None:
        """Routes to ``unit`` from the office and every responder position; ``best`` is the
        fastest. None when the unit is not in the graph or nothing reaches it."""
        if unit not in self.graph:
            return None
        routes: list[dict[str, Any]] = []
        if self.office_node is not None:
            r = self.route_from(self.office_node, unit, label="community_office")
            if r:
                routes.append(r)
        for who, (x, y) in sorted((responders or {}).items()):
            r = self.route_from(self.nearest_node(x, y), unit, label=who)
            if r:
                routes.append(r)
        if not routes:
            return None
        best = min(routes, key=lambda r: (r["time_s"], r["from"]))
        return {"to": unit, "best": best, "routes": routes}


@dataclass
class RuleContext:
    """What rules may look up: the device registry (device id -> ``RegisteredDevice``), the
    resident register, the site (grid workers, boundary) and the settings."""

    settings: AlarmSettings
    registry: _Lookup | None = None
    residents: ResidentRegister = field(default_factory=ResidentRegister)
    site: Site | None = None

    def device(self, device_id: str) -> Any:
        return self.registry.get(device_id) if self.registry is not None else None

    def where(self, ev: LiveEvent) -> dict[str, Any]:
        d = self.device(ev.subject)
        return {"device": ev.subject, "building": getattr(d, "building", None),
                "storey": getattr(d, "level", None), "unit": getattr(d, "unit", None),
                "zone": getattr(d, "zone", None)}

    def grid_worker(self, zone: str | None, building: str | None = None) -> str:
        if self.site is not None:
            for g in self.site.grids:
                if (zone is not None and g.id == zone) or (building is not None and building in g.buildings):
                    return g.worker
        return self.settings.default_grid_worker

    def care_recipients(self, unit: str | None, zone: str | None, building: str | None) -> tuple[Recipient, ...]:
        """Family, community doctor and grid worker of a flat (domain.md, practice 8)."""
        out = [Recipient(f, "family", "sms") for f in self.residents.family_of(unit)]
        out.append(Recipient(self.residents.doctor_of(unit), "community_doctor", "phone"))
        out.append(Recipient(self.grid_worker(zone, building), "grid_worker", "app"))
        return tuple(out)

    def is_perimeter(self, ev: LiveEvent) -> bool:
        s = self.settings
        if ev.subject in s.perimeter_cameras:
            return True
        zone = getattr(ev.data, "zone", None)
        if zone is not None and zone in s.perimeter_zones:
            return True
        d = self.device(ev.subject)
        if self.site is not None and d is not None and getattr(d, "x", None) is not None:
            from shapely.geometry import Point
            return float(self.site.boundary.exterior.distance(Point(d.x, d.y))) <= s.perimeter_band_m
        return False


class Rule:
    """Base of rules: JSON-able ``state`` (persisted by the alarm center) with dirty tracking."""

    name = "rule"

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._due: int | None = None
        self._due_stale = True

    def put(self, key: str, value: Any) -> None:
        self.state[key] = value
        self._dirty.add(key)
        self._due_stale = True

    def drop(self, key: str) -> None:
        if key in self.state:
            del self.state[key]
            self._dirty.add(key)
            self._due_stale = True

    def load(self, items: Mapping[str, Any]) -> None:
        self.state = dict(items)
        self._dirty.clear()
        self._due_stale = True

    def take_dirty(self) -> dict[str, Any]:
        """Changed keys since the last call -> new value (None = deleted)."""
        out = {k: self.state.get(k) for k in sorted(self._dirty)}
        self._dirty.clear()
        return out

    def on_event(self, ev: LiveEvent, ctx: RuleContext) -> list[Trigger]:
        return []

    def _compute_due(self, ctx: RuleContext) -> int | None:
        return None

    def due_us(self, ctx: RuleContext) -> int | None:
        """Earliest event time at which :meth:`on_tick` may fire (None: nothing pending)."""
        if self._due_stale:
            self._due = self._compute_due(ctx)
            self._due_stale = False
        return self._due

    def on_tick(self, now_us: int, ctx: RuleContext) -> list[Trigger]:
        return []


# ---------------------------------------------------------------------------- device alarms
_SIMPLE: dict[str, tuple[str, str, str | None]] = {
    # type: (severity, title, emergency service)
    "cn.shoumen.door.forced": ("orange", "Door forced", POLICE),
    "cn.shoumen.camera.intrusion": ("orange", "Intrusion into a restricted zone", POLICE),
    "cn.shoumen.camera.thrown_object": ("orange", "Object thrown from height", POLICE),
    "cn.shoumen.camera.fall": ("orange", "Person fell in a public space", MEDICAL),
    "cn.shoumen.camera.crowding": ("yellow", "Abnormal gathering", POLICE),
}


class DeviceAlarmRule(Rule):
    """One alarm per alarming device event (module docstring table); fold key: the device."""

    name = "device"

    def on_event(self, ev: LiveEvent, ctx: RuleContext) -> list[Trigger]:
        s = ctx.settings
        w = ctx.where(ev)
        t = ev.time_us
        base = dict(time_us=t, event_id=ev.id, **w)
        d = ev.data
        typ = ev.type
        unit = w["unit"]
        if typ == "cn.shoumen.smoke.alarm":
            return [self._smoke(ev, ctx, base)]
        if typ in _SIMPLE:
            sev, title, svc = _SIMPLE[typ]
            detail: dict[str, Any] = {}
            if typ == "cn.shoumen.camera.thrown_object":
                detail = {"storey": d.storey, "building": d.building or w["building"]}
                title = f"Object thrown from height (storey {d.storey})"
            elif typ == "cn.shoumen.camera.crowding":
                detail = {"count": d.count}
            if getattr(d, "zone", None):
                detail["camera_zone"] = d.zone
            return [Trigger(rule=typ.split(".", 2)[2].replace(".", "_"), key=ev.subject, severity=sev,
                            title=title, service=svc, detail=detail, **base)]
        if typ == "cn.shoumen.water.level":
            thr = d.threshold_m if d.threshold_m is not None else s.water_threshold_m
            if d.level_m < thr:
                return []
            sev = "red" if d.level_m >= 2 * thr and thr > 0 else "orange"
            return [Trigger(rule="water_level", key=ev.subject, severity=sev,
                            title=f"Water level {d.level_m:.2f} m (threshold {thr:.2f} m)", service=FIRE,
                            detail={"level_m": d.level_m, "threshold_m": thr}, **base)]
        if typ == "cn.shoumen.manhole.displacement":
            if not d.displaced:
                return []
            return [Trigger(rule="manhole", key=ev.subject, severity="orange", title="Manhole cover displaced",
                            detail={"tilt_deg": d.tilt_deg}, **base)]
        if typ in ("cn.shoumen.button.pressed", "cn.shoumen.wristband.sos", "cn.shoumen.wristband.fall"):
            sev = "red"
            title = {"cn.shoumen.button.pressed": "Emergency button pressed",
                     "cn.shoumen.wristband.sos": "Wristband SOS",
                     "cn.shoumen.wristband.fall": "Wristband detected a fall"}[typ]
            detail = {}
            if typ == "cn.shoumen.wristband.fall":
                detail = {"confidence": d.confidence}
                if d.confidence is not None and d.confidence < s.fall_confidence_red:
                    sev = "orange"
            return [Trigger(rule="personal_emergency", key=unit or ev.subject, severity=sev, title=title,
                            service=MEDICAL, detail=detail, want_route=True,
                            notify=ctx.care_recipients(unit, w["zone"], w["building"]), **base)]
        if typ == "cn.shoumen.wristband.heart_rate":
            care = [r for r in ctx.care_recipients(unit, w["zone"], w["building"]) if r.role != "grid_worker"]
            return [Trigger(rule="heart_rate", key=unit or ev.subject, severity="orange",
                            title=f"Heart rate {d.direction}: {d.bpm} bpm", service=MEDICAL,
                            detail={"bpm": d.bpm, "direction": d.direction}, notify=tuple(care), **base)]
        if typ == "cn.shoumen.grid.hazard_report":
            return [Trigger(rule="hazard_report", key=d.location or ev.id, severity=d.severity or "yellow",
                            title=f"Hazard reported: {d.category or d.text[:60]}",
                            detail={"photo_uri": d.photo_uri, "text": d.text, "category": d.category,
                                    "location": d.location}, **base)]
        return []

    def _smoke(self, ev: LiveEvent, ctx: RuleContext, base: dict[str, Any]) -> Trigger:
        s = ctx.settings
        d = ev.data
        unit, building = base["unit"], base["building"]
        t = ev.time_us
        detail = {"sensing": d.sensing, "obscuration_pct_per_m": d.obscuration_pct_per_m,
                  "temperature_c": d.temperature_c}
        # confirmation: another detector of the same building alarmed within smoke_confirm_s
        confirmed = d.sensing == "heat"
        if building is not None:
            k = f"smoke:{building}"
            recent = {dev: tu for dev, tu in self.state.get(k, {}).items()
                      if t - tu <= s.smoke_confirm_s * _US and tu <= t}
            if any(dev != ev.subject for dev in recent):
                confirmed = True
                detail["confirmed_by"] = sorted(dev for dev in recent if dev != ev.subject)
            recent[ev.subject] = t
            self.put(k, recent)
        if ctx.residents.is_elderly_alone(unit):
            notify = ctx.care_recipients(unit, base["zone"], building) + (
                Recipient(s.office_contact, "community_office", "screen"),)
            return Trigger(rule="smoke_elderly_alone", key=unit, severity="red",
                           title="Smoke alarm in the flat of an elderly person living alone",
                           start_level="emergency_services", priority=100, service=FIRE, notify=notify,
                           detail=detail, want_route=True, **base)
        notify = (Recipient(s.office_contact, "community_office", "screen"),) + tuple(
            Recipient(f, "family", "sms") for f in ctx.residents.family_of(unit))
        return Trigger(rule="smoke", key=ev.subject, severity="red" if confirmed else "orange",
                       title="Smoke alarm" + (" (confirmed)" if confirmed else ""), service=FIRE, notify=notify,
                       detail=detail, **base)


# ---------------------------------------------------------------------------- elderly no activity
_ACTIVITY_TYPES = frozenset({"cn.shoumen.door.open", "cn.shoumen.door.close", "cn.shoumen.button.pressed",
                             "cn.shoumen.wristband.sos"})


class ElderlyNoActivityRule(Rule):
    """No activity for ``no_activity_hours`` (12 h, domain.md practice 8) in a flat whose
    resident lives alone: from a wristband ``no_activity`` event (``hours`` >= the setting), or
    from the absence of activity events (door open/close, button, SOS from a device of that
    flat) for that long. Absence monitoring of a flat starts with its first activity event
    (a flat with no activity sensor cannot be watched by absence). One alarm per quiet spell:
    the next activity re-arms it. Notifies family, community doctor and grid worker, with the
    fastest route to the flat. State: ``last:<unit>`` (time, us), ``fired:<unit>``."""

    name = "elderly_no_activity"

    def _trigger(self, ctx: RuleContext, unit: str, t: int, *, hours: float, dev: Any, ev: LiveEvent | None,
                 how: str) -> Trigger:
        alone = ctx.residents.is_elderly_alone(unit)
        zone, building = getattr(dev, "zone", None), getattr(dev, "building", None)
        return Trigger(rule=self.name, key=unit, severity="orange" if alone else "yellow",
                       title=f"No activity for {hours:g} h" + (" (elderly person living alone)" if alone else ""),
                       time_us=t, event_id=ev.id if ev else None, device=getattr(dev, "id", None),
                       building=building, storey=getattr(dev, "level", None), unit=unit, zone=zone,
                       service=MEDICAL, notify=ctx.care_recipients(unit, zone, building),
                       detail={"hours": hours, "source": how, "elderly_alone": alone}, want_route=True)

    def on_event(self, ev: LiveEvent, ctx: RuleContext) -> list[Trigger]:
        if ev.type == "cn.shoumen.wristband.no_activity":
            dev = ctx.device(ev.subject)
            unit = getattr(dev, "unit", None) or ev.subject
            if ev.data.hours < ctx.settings.no_activity_hours:
                return []
            self.put(f"fired:{unit}", ev.time_us)
            return [self._trigger(ctx, unit, ev.time_us, hours=ev.data.hours, dev=dev, ev=ev, how="wristband")]
        if ev.type in _ACTIVITY_TYPES:
            dev = ctx.device(ev.subject)
            unit = getattr(dev, "unit", None)
            if unit is not None and ctx.residents.is_elderly_alone(unit):
                if ev.time_us >= self.state.get(f"last:{unit}", -1):
                    self.put(f"last:{unit}", ev.time_us)
                    self.drop(f"fired:{unit}")
        return []

    def _limit_us(self, ctx: RuleContext) -> int:
        return int(round(ctx.settings.no_activity_hours * _HOUR_US))

    def _compute_due(self, ctx: RuleContext) -> int | None:
        lim = self._limit_us(ctx)
        due = [v + lim for k, v in self.state.items()
               if k.startswith("last:") and f"fired:{k[5:]}" not in self.state]
        return min(due) if due else None

    def on_tick(self, now_us: int, ctx: RuleContext) -> list[Trigger]:
        lim = self._limit_us(ctx)
        out = []
        for k in sorted(k for k in self.state if k.startswith("last:")):
            unit = k[5:]
            if f"fired:{unit}" in self.state or self.state[k] + lim > now_us:
                continue
            t = self.state[k] + lim
            self.put(f"fired:{unit}", t)
            dev = _unit_device(ctx, unit)
            out.append(self._trigger(ctx, unit, t, hours=ctx.settings.no_activity_hours, dev=dev, ev=None,
                                     how="absence"))
        return out


@dataclass(frozen=True)
class _UnitPlace:
    id: str | None
    building: str | None
    level: int | None
    unit: str
    zone: str | None


def _unit_device(ctx: RuleContext, unit: str) -> _UnitPlace:
    """Where a flat is (building, storey, grid) from its id ``B03-L05-U02`` and the site."""
    parts = unit.split("-")
    building = parts[0] if len(parts) == 3 else None
    level = int(parts[1][1:]) if len(parts) == 3 and parts[1][:1] == "L" and parts[1][1:].isdigit() else None
    zone = None
    if ctx.site is not None and building is not None:
        zone = next((g.id for g in ctx.site.grids if building in g.buildings), None)
    return _UnitPlace(None, building, level, unit, zone)


# ---------------------------------------------------------------------------- zombie cars
class ZombieCarRule(Rule):
    """A vehicle (plate hash) seen entering and not leaving within ``zombie_days`` (domain.md
    practice 2, "vehicles that never leave"; N an assumption). ``licence_plate`` events with
    ``direction`` ``in`` start the clock, ``out`` stops it; a plate read without direction by
    a camera inside the estate starts the clock when the plate is not already known to be in.
    State: ``in:<plate_hmac>`` -> ``{"t": entered_us, "dev": camera, "fired": bool}``."""

    name = "zombie_car"

    def on_event(self, ev: LiveEvent, ctx: RuleContext) -> list[Trigger]:
        if ev.type != "cn.shoumen.camera.licence_plate":
            return []
        d = ev.data
        k = f"in:{d.plate_hmac}"
        if d.direction == "out":
            self.drop(k)
        elif d.direction == "in":
            self.put(k, {"t": ev.time_us, "dev": ev.subject, "fired": False})
        elif k not in self.state:
            self.put(k, {"t": ev.time_us, "dev": ev.subject, "fired": False})
        return []

    def _limit_us(self, ctx: RuleContext) -> int:
        return int(round(ctx.settings.zombie_days * _DAY_US))

    def _compute_due(self, ctx: RuleContext) -> int | None:
        lim = self._limit_us(ctx)
        due = [v["t"] + lim for k, v in self.state.items() if k.startswith("in:") and not v["fired"]]
        return min(due) if due else None

    def on_tick(self, now_us: int, ctx: RuleContext) -> list[Trigger]:
        lim = self._limit_us(ctx)
        out = []
        for k in sorted(self.state):
            v = self.state[k]
            if not k.startswith("in:") or v["fired"] or v["t"] + lim > now_us:
                continue
            self.put(k, {**v, "fired": True})
            w = ctx.device(v["dev"])
            out.append(Trigger(rule=self.name, key=k[3:], severity="yellow",
                               title=f"Vehicle parked for more than {ctx.settings.zombie_days:g} days",
                               time_us=v["t"] + lim, device=v["dev"], zone=getattr(w, "zone", None),
                               detail={"plate_hmac": k[3:], "entered_us": v["t"],
                                       "days": ctx.settings.zombie_days}))
        return out


# ---------------------------------------------------------------------------- perimeter loitering
class PerimeterLoiteringRule(Rule):
    """The same person or plate loitering near the perimeter at night (domain.md practice 1:
    strangers "repeatedly at night near the perimeter wall"). A ``camera.loitering`` event
    counts when the camera is a perimeter camera (``perimeter_cameras``, a ``perimeter_zones``
    zone, or within ``perimeter_band_m`` of the site boundary), the local time is in the night
    (``night_start_h``..``night_end_h``) and ``dwell_s`` >= ``loiter_min_dwell_s``. Identity:
    the analytics' ``track`` when given (a re-identifying tracker keeps it across nights), else
    the camera (someone keeps loitering at this stretch of wall). A plate read twice by
    perimeter cameras at least ``plate_loiter_gap_s`` apart in one night counts as plate
    loitering (key: the plate hash). Severity: yellow, orange once the key was seen on
    ``repeat_nights`` distinct nights within ``nights_window_days``."""

    name = "perimeter_loitering"

    def _nights(self, key: str, night: int, ctx: RuleContext) -> list[int]:
        win = ctx.settings.nights_window_days
        nights = sorted({n for n in self.state.get(f"nights:{key}", []) if night - n < win} | {night})
        self.put(f"nights:{key}", nights)
        return nights

    def on_event(self, ev: LiveEvent, ctx: RuleContext) -> list[Trigger]:
        s = ctx.settings
        if ev.type not in ("cn.shoumen.camera.loitering", "cn.shoumen.camera.licence_plate"):
            return []
        night = s.night_of(ev.time_us)
        if night is None or not ctx.is_perimeter(ev):
            return []
        d = ev.data
        if ev.type == "cn.shoumen.camera.loitering":
            if d.dwell_s < s.loiter_min_dwell_s:
                return []
            key = f"track:{d.track}" if d.track else f"camera:{ev.subject}"
            detail: dict[str, Any] = {"dwell_s": d.dwell_s, "track": d.track, "camera_zone": d.zone}
        else:
            pk = f"plate:{d.plate_hmac}"
            first = self.state.get(pk)
            if first is None or first[0] != night:
                self.put(pk, [night, ev.time_us])
                return []
            if ev.time_us - first[1] < s.plate_loiter_gap_s * _US:
                return []
            key = f"plate:{d.plate_hmac}"
            detail = {"plate_hmac": d.plate_hmac, "first_seen_us": first[1]}
        nights = self._nights(key, night, ctx)
        sev = "orange" if len(nights) >= s.repeat_nights else "yellow"
        w = ctx.where(ev)
        detail["nights"] = len(nights)
        return [Trigger(rule=self.name, key=key, severity=sev,
                        title=f"Loitering near the perimeter at night ({len(nights)} night(s))",
                        time_us=ev.time_us, event_id=ev.id, service=POLICE, detail=detail,
                        notify=(Recipient(ctx.grid_worker(w["zone"], w["building"]), "grid_worker", "app"),),
                        **w)]


class ResponderPositions(Rule):
    """Last known position (local m) of each patrol tracker, from ``patrol.position`` events
    with ``x_m``/``y_m``; used as route origins. Raises nothing. State ``pos:<id>`` -> [x, y, t]."""

    name = "responder_positions"

    def on_event(self, ev: LiveEvent, ctx: RuleContext) -> list[Trigger]:
        if ev.type == "cn.shoumen.patrol.position" and ev.data.x_m is not None:
            old = self.state.get(f"pos:{ev.subject}")
            if old is None or ev.time_us >= old[2]:
                self.put(f"pos:{ev.subject}", [ev.data.x_m, ev.data.y_m, ev.time_us])
        return []

    def positions(self) -> dict[str, tuple[float, float]]:
        return {k[4:]: (v[0], v[1]) for k, v in self.state.items() if k.startswith("pos:")}


def default_rules() -> list[Rule]:
    """The standard rule set, in evaluation order."""
    return [ResponderPositions(), DeviceAlarmRule(), ElderlyNoActivityRule(), ZombieCarRule(),
            PerimeterLoiteringRule()]


def utc_us(t: datetime) -> int:
    """A timezone-aware datetime as integer microseconds since the Unix epoch."""
    if t.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime (UTC), got {t!r}")
    d = t - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (d.days * 86_400 + d.seconds) * _US + d.microseconds
