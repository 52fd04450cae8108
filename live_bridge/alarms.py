"""The alarm lifecycle: raise -> acknowledge -> escalate -> resolve, audited, in SQLite.

:class:`AlarmCenter` is driven by live events in event-time order (:meth:`AlarmCenter.handle`)
and by the passage of event time (:meth:`AlarmCenter.tick`); it never reads the wall clock, so
the same events replayed give the same alarms, escalations and notifications (DESIGN.md,
principle 1: a live event and a replayed one differ only in where they came from). Rules
(:mod:`live_bridge.rules`) turn events into triggers; the center:

* **raises** an alarm per trigger, with a four-colour severity (red > orange > yellow > blue,
  domain.md practice 9) and a start level (``property`` unless the rule says otherwise; a smoke
  alarm in the flat of an elderly person living alone starts at ``emergency_services``);
* **folds** a trigger with the same ``(rule, key)`` -- the same device, flat, plate or person --
  into the open alarm when it comes within ``fold_window_s`` of that alarm's ``last_seen``:
  ``count`` + 1, ``last_seen`` updated, severity raised if the new trigger is more severe;
* **escalates** an alarm not acknowledged within ``escalation_s[severity][level]`` seconds of
  reaching its level, one level up (property -> grid worker -> community office -> emergency
  services), at the deadline's event time (so a long tick escalates step by step, each at its
  own time); acknowledgement stops escalation;
* **acknowledges** and **resolves** with role checks (:data:`PERMISSIONS`);
* writes **notifications** as records in the ``alarm_outbox`` table (who, role, channel, when,
  payload) for other parts to read -- nothing is sent;
* keeps an **append-only audit** (``alarm_audit``; UPDATE and DELETE are refused by triggers in
  the database) of who did what when: raise, fold, escalate, acknowledge (user, role), resolve
  (user, role, note).

Roles (:data:`PERMISSIONS`):

============ ================================================ ==================================
role         may acknowledge                                  may resolve
============ ================================================ ==================================
property     alarms at level ``property``                     yellow and blue alarms (the work
                                                              orders it fixes, practice 3)
grid_worker  alarms at ``property`` or ``grid_worker``        yellow and blue alarms
operator     any alarm (the community office's duty desk)     any alarm
admin        any alarm                                        any alarm
============ ================================================ ==================================

A refused action raises :class:`PermissionError` naming the role, the action and the alarm; an
unknown alarm id raises :class:`KeyError`; acting on a resolved alarm (or acknowledging twice)
raises :class:`AlarmStateError`. Resolving needs a non-empty note.

Storage: the SQLite file of the event store (its own tables ``alarms``, ``alarm_audit``,
``alarm_outbox``, ``alarm_rule_state``, ``alarm_meta``), WAL mode. Each public call is one
transaction; reopening restores the open alarms, the rules' state and the clock. Times in the
tables are integer microseconds since the Unix epoch (UTC); the API uses UTC datetimes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

import networkx as nx

from geometry.site import Site
from live_bridge.residents import ResidentRegister
from live_bridge.rules import (
    LEVELS,
    SEVERITIES,
    SEVERITY_RANK,
    AlarmSettings,
    Recipient,
    ResponderPositions,
    RoutePlanner,
    Rule,
    RuleContext,
    Trigger,
    default_rules,
    utc_us,
)
from live_bridge.store import open_connection
from live_bridge.vocabulary import LiveEvent

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Alarm",
    "AlarmCenter",
    "AlarmStateError",
    "AuditEntry",
    "Notification",
]

#: Roles of people acting on alarms.
ROLES: tuple[str, ...] = ("operator", "grid_worker", "property", "admin")
#: role -> (levels it may acknowledge at, severities it may resolve).
PERMISSIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "property": (frozenset({"property"}), frozenset({"yellow", "blue"})),
    "grid_worker": (frozenset({"property", "grid_worker"}), frozenset({"yellow", "blue"})),
    "operator": (frozenset(LEVELS), frozenset(SEVERITIES)),
    "admin": (frozenset(LEVELS), frozenset(SEVERITIES)),
}

State = Literal["open", "acknowledged", "resolved"]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _dt(us: int | None) -> datetime | None:
    if us is None:
        return None
    from datetime import timedelta
    return _EPOCH + timedelta(microseconds=int(us))


class AlarmStateError(ValueError):
    """An action that the alarm's state does not allow (acknowledging twice, acting on a
    resolved alarm, a time before the alarm was raised)."""


@dataclass(frozen=True)
class Alarm:
    """One alarm (immutable snapshot). ``id`` like ``A-000042``; times are UTC datetimes;
    ``level`` the escalation level it has reached; ``detail`` JSON-able (``route`` for alarms of
    flats: the fastest route to the flat)."""

    id: str
    rule: str
    key: str
    severity: str
    priority: int
    state: State
    level: str
    level_since: datetime
    raised: datetime
    last_seen: datetime
    count: int
    title: str
    device: str | None = None
    building: str | None = None
    storey: int | None = None
    unit: str | None = None
    zone: str | None = None
    service: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    acknowledged_by: str | None = None
    acknowledged_role: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_role: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None

    @property
    def rank(self) -> tuple[int, int]:
        """Sort key, higher first: (severity rank, priority)."""
        return (SEVERITY_RANK[self.severity], self.priority)


@dataclass(frozen=True)
class AuditEntry:
    """One audit record: ``action`` in raise, fold, escalate, acknowledge, resolve."""

    seq: int
    alarm_id: str
    time: datetime
    action: str
    actor: str
    role: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Notification:
    """One outbox record: who (contact id), their role, the channel, when, the payload."""

    seq: int
    alarm_id: str
    time: datetime
    recipient: str
    role: str
    channel: str
    payload: Mapping[str, Any]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (
    n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, rule TEXT NOT NULL, key TEXT NOT NULL,
    severity TEXT NOT NULL, priority INTEGER NOT NULL, state TEXT NOT NULL, level TEXT NOT NULL,
    level_since_us INTEGER NOT NULL, raised_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL,
    count INTEGER NOT NULL, title TEXT NOT NULL, device TEXT, building TEXT, storey INTEGER, unit TEXT,
    zone TEXT, service TEXT, detail TEXT NOT NULL, ack_by TEXT, ack_role TEXT, ack_us INTEGER,
    resolved_by TEXT, resolved_role TEXT, resolved_us INTEGER, note TEXT
);
CREATE INDEX IF NOT EXISTS alarms_state ON alarms (state);
CREATE TABLE IF NOT EXISTS alarm_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, alarm_id TEXT NOT NULL, time_us INTEGER NOT NULL,
    action TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_audit_alarm ON alarm_audit (alarm_id, seq);
CREATE TRIGGER IF NOT EXISTS alarm_audit_no_update BEFORE UPDATE ON alarm_audit
    BEGIN SELECT RAISE(ABORT, 'alarm_audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS alarm_audit_no_delete BEFORE DELETE ON alarm_audit
    BEGIN SELECT RAISE(ABORT, 'alarm_audit is append-only'); END;
CREATE TABLE IF NOT EXISTS alarm_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, alarm_id TEXT NOT NULL, time_us INTEGER NOT NULL,
    recipient TEXT NOT NULL, role TEXT NOT NULL, channel TEXT NOT NULL, payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alarm_rule_state (
    rule TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (rule, key)
);
CREATE TABLE IF NOT EXISTS alarm_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_COLS = ("id", "rule", "key", "severity", "priority", "state", "level", "level_since_us", "raised_us",
         "last_seen_us", "count", "title", "device", "building", "storey", "unit", "zone", "service", "detail",
         "ack_by", "ack_role", "ack_us", "resolved_by", "resolved_role", "resolved_us", "note")


class AlarmCenter:
    """The alarm lifecycle over an event stream (module docstring).

    ``path``: the SQLite file (the event store's is fine). ``registry``: device id ->
    ``RegisteredDevice`` (a :class:`live_bridge.registry.DeviceRegistry` or a mapping), for
    where a device is. ``residents``: the :class:`ResidentRegister`. ``site``: grid workers and
    the perimeter. ``graph`` (navigation graph of ``site``) or ``planner``: fastest routes to
    flats. ``rules``: default :func:`live_bridge.rules.default_rules`. ``synchronous``: SQLite's
    level (``NORMAL`` for bulk replay)."""

    def __init__(
        self,
        path: str | Path,
        *,
        registry: Any = None,
        residents: ResidentRegister | None = None,
        site: Site | None = None,
        graph: nx.Graph | None = None,
        planner: RoutePlanner | None = None,
        settings: AlarmSettings | None = None,
        rules: Iterable[Rule] | None = None,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        self.path = Path(path)
        self.settings = settings or AlarmSettings()
        if planner is None and graph is not None:
            planner = RoutePlanner.for_site(site, graph) if site is not None else RoutePlanner(graph)
        self.planner = planner
        self.ctx = RuleContext(settings=self.settings, registry=registry,
                               residents=residents if residents is not None else ResidentRegister(), site=site)
        self.rules: list[Rule] = list(rules) if rules is not None else default_rules()
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"rules: names must be unique, got {names}")
        self._lock = threading.RLock()
        self._con = open_connection(self.path, synchronous=synchronous)
        self._con.executescript(_SCHEMA)
        self._load()

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        self._open: dict[str, Alarm] = {}
        self._by_key: dict[tuple[str, str], str] = {}
        cols = ", ".join(_COLS)
        for row in self._con.execute(f"SELECT {cols} FROM alarms WHERE state != 'resolved' ORDER BY n"):
            a = self._from_row(row)
            self._open[a.id] = a
            self._by_key[(a.rule, a.key)] = a.id
        state: dict[str, dict[str, Any]] = {}
        for rule, key, value in self._con.execute("SELECT rule, key, value FROM alarm_rule_state"):
            state.setdefault(rule, {})[key] = json.loads(value)
        for r in self.rules:
            r.load(state.get(r.name, {}))
        row = self._con.execute("SELECT value FROM alarm_meta WHERE name = 'clock_us'").fetchone()
        self._clock: int | None = None if row is None else int(row[0])

    @staticmethod
    def _from_row(row: tuple) -> Alarm:
        r = dict(zip(_COLS, row))
        return Alarm(id=r["id"], rule=r["rule"], key=r["key"], severity=r["severity"], priority=r["priority"],
                     state=r["state"], level=r["level"], level_since=_dt(r["level_since_us"]),
                     raised=_dt(r["raised_us"]), last_seen=_dt(r["last_seen_us"]), count=r["count"],
                     title=r["title"], device=r["device"], building=r["building"], storey=r["storey"],
                     unit=r["unit"], zone=r["zone"], service=r["service"], detail=json.loads(r["detail"]),
                     acknowledged_by=r["ack_by"], acknowledged_role=r["ack_role"], acknowledged_at=_dt(r["ack_us"]),
                     resolved_by=r["resolved_by"], resolved_role=r["resolved_role"],
                     resolved_at=_dt(r["resolved_us"]), note=r["note"])

    def _row(self, a: Alarm) -> tuple:
        return (a.id, a.rule, a.key, a.severity, a.priority, a.state, a.level, utc_us(a.level_since),
                utc_us(a.raised), utc_us(a.last_seen), a.count, a.title, a.device, a.building, a.storey, a.unit,
                a.zone, a.service, json.dumps(a.detail, sort_keys=True), a.acknowledged_by, a.acknowledged_role,
                None if a.acknowledged_at is None else utc_us(a.acknowledged_at), a.resolved_by, a.resolved_role,
                None if a.resolved_at is None else utc_us(a.resolved_at), a.note)

    # ------------------------------------------------------------------ transactions
    def _txn(self) -> "_Txn":
        return _Txn(self)

    def _save(self, a: Alarm) -> None:
        sets = ", ".join(f"{c} = ?" for c in _COLS[1:])
        row = self._row(a)
        self._con.execute(f"UPDATE alarms SET {sets} WHERE id = ?", (*row[1:], a.id))
        if a.state == "resolved":
            self._open.pop(a.id, None)
            if self._by_key.get((a.rule, a.key)) == a.id:
                del self._by_key[(a.rule, a.key)]
        else:
            self._open[a.id] = a

    def _audit(self, alarm_id: str, t_us: int, action: str, actor: str, role: str, detail: Mapping[str, Any]) -> None:
        self._con.execute("INSERT INTO alarm_audit (alarm_id, time_us, action, actor, role, detail) "
                          "VALUES (?,?,?,?,?,?)", (alarm_id, t_us, action, actor, role,
                                                    json.dumps(detail, sort_keys=True, default=str)))

    def _notify(self, a: Alarm, t_us: int, recipients: Iterable[Recipient], reason: str) -> None:
        seen: set[tuple[str, str]] = set()
        for r in recipients:
            if (r.who, r.channel) in seen:
                continue
            seen.add((r.who, r.channel))
            payload = {"alarm": a.id, "reason": reason, "title": a.title, "severity": a.severity, "level": a.level,
                       "building": a.building, "storey": a.storey, "unit": a.unit, "zone": a.zone,
                       "device": a.device, "count": a.count}
            if "route" in a.detail:
                payload["route"] = a.detail["route"]
            self._con.execute("INSERT INTO alarm_outbox (alarm_id, time_us, recipient, role, channel, payload) "
                              "VALUES (?,?,?,?,?,?)", (a.id, t_us, r.who, r.role, r.channel,
                                                        json.dumps(payload, sort_keys=True)))

    def _level_party(self, a: Alarm, level: str) -> Recipient:
        s = self.settings
        if level == "property":
            return Recipient(s.property_contact, "property", "app")
        if level == "grid_worker":
            return Recipient(self.ctx.grid_worker(a.zone, a.building), "grid_worker", "app")
        if level == "community_office":
            return Recipient(s.office_contact, "community_office", "screen")
        return Recipient(a.service or "110", "emergency_services", "call")

    def _flush_rules(self) -> None:
        for r in self.rules:
            for k, v in r.take_dirty().items():
                if v is None:
                    self._con.execute("DELETE FROM alarm_rule_state WHERE rule = ? AND key = ?", (r.name, k))
                else:
                    self._con.execute("INSERT OR REPLACE INTO alarm_rule_state (rule, key, value) VALUES (?,?,?)",
                                      (r.name, k, json.dumps(v, sort_keys=True)))
        if self._clock is not None:
            self._con.execute("INSERT OR REPLACE INTO alarm_meta (name, value) VALUES ('clock_us', ?)", (self._clock,))

    # ------------------------------------------------------------------ core
    def _apply(self, tr: Trigger) -> Alarm:
        if tr.severity not in SEVERITY_RANK:
            raise ValueError(f"rule {tr.rule!r}: severity {tr.severity!r} is not one of {', '.join(SEVERITIES)}")
        if tr.start_level not in LEVELS:
            raise ValueError(f"rule {tr.rule!r}: start_level {tr.start_level!r} is not one of {', '.join(LEVELS)}")
        fold_us = int(round(self.settings.fold_window_s * 1e6))
        aid = self._by_key.get((tr.rule, tr.key))
        if aid is not None:
            a = self._open[aid]
            if tr.time_us - utc_us(a.last_seen) <= fold_us:
                return self._fold(a, tr)
        return self._raise(tr)

    def _route(self, tr: Trigger) -> dict[str, Any] | None:
        if not tr.want_route or self.planner is None or tr.unit is None:
            return None
        pos = next((r.positions() for r in self.rules if isinstance(r, ResponderPositions)), {})
        return self.planner.plan(tr.unit, responders=pos)

    def _raise(self, tr: Trigger) -> Alarm:
        detail = dict(tr.detail)
        if tr.event_id:
            detail["event_ids"] = [tr.event_id]
        route = self._route(tr)
        if route is not None:
            detail["route"] = route
        t = _dt(tr.time_us)
        cur = self._con.execute("INSERT INTO alarms (id, rule, key, severity, priority, state, level, level_since_us, "
                                "raised_us, last_seen_us, count, title, detail) VALUES "
                                "('?', '', '', 'blue', 0, 'open', 'property', 0, 0, 0, 0, '', '{}')")
        n = cur.lastrowid
        aid = f"A-{n:06d}"
        a = Alarm(id=aid, rule=tr.rule, key=tr.key, severity=tr.severity, priority=tr.priority, state="open",
                  level=tr.start_level, level_since=t, raised=t, last_seen=t, count=1, title=tr.title,
                  device=tr.device, building=tr.building, storey=tr.storey, unit=tr.unit, zone=tr.zone,
                  service=tr.service, detail=detail)
        self._con.execute("UPDATE alarms SET id = ? WHERE n = ?", (aid, n))
        self._save(a)
        self._by_key[(a.rule, a.key)] = aid
        self._audit(aid, tr.time_us, "raise", f"rule:{tr.rule}", "system",
                    {"severity": a.severity, "level": a.level, "title": a.title, "key": a.key,
                     "event_id": tr.event_id, "priority": a.priority})
        self._notify(a, tr.time_us, (self._level_party(a, a.level),) + tuple(tr.notify), "raised")
        return a

    def _fold(self, a: Alarm, tr: Trigger) -> Alarm:
        detail = dict(a.detail)
        if tr.event_id:
            ids = list(detail.get("event_ids", []))
            if tr.event_id not in ids:
                ids = (ids + [tr.event_id])[-50:]
            detail["event_ids"] = ids
        for k, v in tr.detail.items():
            if k not in ("route",):
                detail[k] = v
        upgrade = SEVERITY_RANK[tr.severity] > SEVERITY_RANK[a.severity]
        new = replace(a, count=a.count + 1, last_seen=max(a.last_seen, _dt(tr.time_us)),
                      severity=tr.severity if upgrade else a.severity, priority=max(a.priority, tr.priority),
                      title=tr.title if upgrade else a.title, detail=detail)
        self._save(new)
        self._audit(a.id, tr.time_us, "fold", f"rule:{tr.rule}", "system",
                    {"count": new.count, "event_id": tr.event_id, "severity": new.severity,
                     "upgraded_from": a.severity if upgrade else None})
        if upgrade:
            self._notify(new, tr.time_us, (self._level_party(new, new.level),) + tuple(tr.notify),
                         f"severity raised to {new.severity}")
        if LEVELS.index(tr.start_level) > LEVELS.index(new.level) and new.state == "open":
            new = self._escalate_to(new, tr.start_level, tr.time_us, reason=f"rule {tr.rule} starts at {tr.start_level}")
        return new

    def _escalate_to(self, a: Alarm, level: str, t_us: int, *, reason: str) -> Alarm:
        new = replace(a, level=level, level_since=_dt(t_us))
        self._save(new)
        self._audit(a.id, t_us, "escalate", "system", "system", {"from": a.level, "to": level, "reason": reason})
        self._notify(new, t_us, (self._level_party(new, level),), f"escalated to {level}")
        return new

    def _escalate_due(self, now_us: int) -> list[Alarm]:
        out: list[Alarm] = []
        for aid in sorted(self._open):
            a = self._open[aid]
            while a.state == "open":
                i = LEVELS.index(a.level)
                if i + 1 >= len(LEVELS):
                    break
                allowed = self.settings.escalation_s[a.severity][i]
                if allowed is None:
                    break
                due = utc_us(a.level_since) + int(round(allowed * 1e6))
                if due > now_us:
                    break
                a = self._escalate_to(a, LEVELS[i + 1], due,
                                      reason=f"not acknowledged within {allowed:g} s at {LEVELS[i]}")
                out.append(a)
        return out

    def _advance(self, now_us: int) -> list[Alarm]:
        """Run time-based rules and escalations up to ``now_us`` (event time)."""
        if self._clock is not None and now_us < self._clock:
            return []
        out: list[Alarm] = []
        triggers: list[Trigger] = []
        for r in self.rules:
            due = r.due_us(self.ctx)
            if due is not None and due <= now_us:
                triggers += r.on_tick(now_us, self.ctx)
        for tr in sorted(triggers, key=lambda t: (t.time_us, t.rule, t.key)):
            out.append(self._apply(tr))
        self._clock = now_us
        out += self._escalate_due(now_us)
        return out

    # ------------------------------------------------------------------ public API
    @property
    def clock(self) -> datetime | None:
        """The newest event or tick time seen (UTC), None before the first."""
        return _dt(self._clock)

    def handle(self, event: LiveEvent) -> list[Alarm]:
        """Apply one live event (in event-time order; a late one is applied at its own time):
        first time-based rules and escalations up to its time, then the rules. Returns the
        alarms raised or folded by it."""
        if not isinstance(event, LiveEvent):
            raise TypeError(f"handle: expected a LiveEvent, got {type(event).__name__}")
        with self._lock, self._txn():
            t = event.time_us
            self._advance(t)
            triggers: list[Trigger] = []
            for r in self.rules:
                triggers += r.on_event(event, self.ctx)
            out = [self._apply(tr) for tr in triggers]
            self._escalate_due(self._clock if self._clock is not None else t)
            return [self._open.get(a.id, a) for a in out]

    def tick(self, now: datetime) -> list[Alarm]:
        """Advance event time to ``now`` (UTC-aware): time-based rules fire (no activity,
        zombie cars) and unacknowledged alarms escalate. A time before the clock does nothing.
        Returns each alarm raised, folded or escalated once, in its state after the tick."""
        now_us = utc_us(now)
        with self._lock, self._txn():
            changed = self._advance(now_us)
            ids = list(dict.fromkeys(a.id for a in changed))
            return [self._open.get(i) or next(a for a in reversed(changed) if a.id == i) for i in ids]

    def _check(self, alarm_id: str, user: str, role: str, action: str) -> Alarm:
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(user, str) or not user.strip():
            raise ValueError(f"{action}: 'user' must name the person acting, got {user!r}")
        a = self._open.get(alarm_id)
        if a is None:
            row = self._con.execute("SELECT state FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
            if row is None:
                raise KeyError(f"unknown alarm {alarm_id!r}")
            raise AlarmStateError(f"cannot {action} alarm {alarm_id}: it is already resolved")
        return a

    def _at(self, a: Alarm, at: datetime | None, action: str) -> int:
        if at is None:
            return self._clock if self._clock is not None else utc_us(a.raised)
        t = utc_us(at)
        if t < utc_us(a.raised):
            raise AlarmStateError(f"cannot {action} alarm {a.id} at {at.isoformat()}: before it was raised "
                                  f"({a.raised.isoformat()})")
        return t

    def acknowledge(self, alarm_id: str, user: str, role: str, *, at: datetime | None = None) -> Alarm:
        """``user`` in ``role`` acknowledges the alarm at ``at`` (default: the clock); time
        first advances to ``at`` (escalations due before it happen first). PermissionError if
        the role may not acknowledge at the alarm's level; AlarmStateError if already
        acknowledged or resolved; KeyError if unknown."""
        with self._lock, self._txn():
            a = self._check(alarm_id, user, role, "acknowledge")
            t = self._at(a, at, "acknowledge")
            self._advance(t)
            a = self._open[alarm_id]
            if a.state == "acknowledged":
                raise AlarmStateError(f"alarm {alarm_id} was already acknowledged by {a.acknowledged_by} "
                                      f"({a.acknowledged_role})")
            levels = PERMISSIONS[role][0]
            if a.level not in levels:
                allowed = ", ".join(r for r in ROLES if a.level in PERMISSIONS[r][0])
                raise PermissionError(f"role {role!r} may not acknowledge alarm {alarm_id} at level {a.level} "
                                      f"(allowed: {allowed})")
            new = replace(a, state="acknowledged", acknowledged_by=user, acknowledged_role=role,
                          acknowledged_at=_dt(t))
            self._save(new)
            self._audit(alarm_id, t, "acknowledge", user, role, {"level": a.level})
            return new

    def resolve(self, alarm_id: str, user: str, role: str, note: str, *, at: datetime | None = None) -> Alarm:
        """``user`` in ``role`` resolves the alarm with ``note`` (required). PermissionError if
        the role may not resolve alarms of this severity; KeyError if unknown."""
        if not isinstance(note, str) or not note.strip():
            raise ValueError(f"resolve {alarm_id}: 'note' must say what was done (non-empty text)")
        with self._lock, self._txn():
            a = self._check(alarm_id, user, role, "resolve")
            t = self._at(a, at, "resolve")
            self._advance(t)
            a = self._open[alarm_id]
            if a.severity not in PERMISSIONS[role][1]:
                allowed = ", ".join(r for r in ROLES if a.severity in PERMISSIONS[r][1])
                raise PermissionError(f"role {role!r} may not resolve {a.severity} alarm {alarm_id} "
                                      f"(allowed: {allowed})")
            new = replace(a, state="resolved", resolved_by=user, resolved_role=role, resolved_at=_dt(t),
                          note=note.strip())
            self._save(new)
            self._audit(alarm_id, t, "resolve", user, role, {"note": note.strip(), "level": a.level})
            return new

    def open_alarms(self) -> list[Alarm]:
        """Unresolved alarms, most urgent first: severity, then priority, then oldest."""
        with self._lock:
            return sorted(self._open.values(), key=lambda a: (-a.rank[0], -a.rank[1], a.raised, a.id))

    def get(self, alarm_id: str) -> Alarm:
        """One alarm (open or resolved); KeyError if unknown."""
        with self._lock:
            if alarm_id in self._open:
                return self._open[alarm_id]
            row = self._con.execute(f"SELECT {', '.join(_COLS)} FROM alarms WHERE id = ?", (alarm_id,)).fetchone()
            if row is None:
                raise KeyError(f"unknown alarm {alarm_id!r}")
            return self._from_row(row)

    def history(self, alarm_id: str) -> list[AuditEntry]:
        """The audit records of one alarm, in order; KeyError if unknown."""
        self.get(alarm_id)
        return self._audit_rows("WHERE alarm_id = ?", (alarm_id,))

    def audit(self, *, since_seq: int = 0) -> list[AuditEntry]:
        """Every audit record after ``since_seq``, in order."""
        return self._audit_rows("WHERE seq > ?", (since_seq,))

    def _audit_rows(self, where: str, args: tuple) -> list[AuditEntry]:
        with self._lock:
            rows = self._con.execute(f"SELECT seq, alarm_id, time_us, action, actor, role, detail FROM alarm_audit "
                                     f"{where} ORDER BY seq", args).fetchall()
        return [AuditEntry(s, aid, _dt(t), act, actor, role, json.loads(d)) for s, aid, t, act, actor, role, d in rows]

    def outbox(self, *, since_seq: int = 0, alarm_id: str | None = None) -> list[Notification]:
        """Notification records after ``since_seq`` (optionally of one alarm), in order."""
        q = "SELECT seq, alarm_id, time_us, recipient, role, channel, payload FROM alarm_outbox WHERE seq > ?"
        args: tuple = (since_seq,)
        if alarm_id is not None:
            q += " AND alarm_id = ?"
            args += (alarm_id,)
        with self._lock:
            rows = self._con.execute(q + " ORDER BY seq", args).fetchall()
        return [Notification(s, aid, _dt(t), who, role, ch, json.loads(p)) for s, aid, t, who, role, ch, p in rows]

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> "AlarmCenter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Txn:
    """One SQLite transaction per public call; on error, roll back and reload memory state."""

    def __init__(self, center: AlarmCenter) -> None:
        self.c = center

    def __enter__(self) -> None:
        self.c._con.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        con = self.c._con
        if exc_type is None:
            try:
                self.c._flush_rules()
                con.execute("COMMIT")
                return
            except BaseException:
                con.execute("ROLLBACK")
                self.c._load()
                raise
        con.execute("ROLLBACK")
        self.c._load()
