"""Fire and smoke in the twin: the zone model of the burning building, its detectors and the
alarm they raise.

:class:`FireComponent` steps the two-zone model (:mod:`twin.fire.zone`) of the buildings that
burn, over their compartment networks (:mod:`twin.fire.compartments`), every tick; feeds the
detectors of the room of origin with Alpert's ceiling jet (:mod:`twin.fire.detectors`) and the
smoke detectors of every other compartment with the layer's soot (activation when the layer's
obscuration exceeds the detector's threshold, 3.24 %/m by default, and the layer is at least
0.1 m deep at the ceiling); publishes :class:`~twin.events.DetectorActivated` for each and
raises :class:`~twin.events.AlarmRaised` — the alarm the crowd model starts on — as the
building's **alarm arrangement** says (``alarm``):

* ``"building"`` (default; a building-wide fire alarm system, GB 50116): the first activation
  in a building raises the building's alarm ``alarm_delay_s`` later (10 s: smart smoke
  detectors alert the centre and the family within ~10 s, ``shared/domain.md`` practice 7);
* ``"local"`` (stand-alone smoke alarms in the flats): a detector sounds in its own flat only
  (a ``unit`` alarm for that flat's occupants at once); the building hears of it when someone
  phones the property / centre, ``phone_delay_s`` later (120 s: noticing, deciding and
  dialling — an assumption of this model), then the building's alarm;
* ``"phone"`` (no detectors relied on): the occupants of the fire flat notice the fire when
  its smoke layer comes down to 1.83 m (the tenability head height), leave (a ``unit`` alarm),
  and the building's alarm follows ``phone_delay_s`` later.

**Spread** (:mod:`twin.fire.spread`): windows break, flats flash over, and fire reaches the
flat above (window to window), the flats beside and above (fire-resistance ratings) and, by
Hamada's model, other buildings whose stock is not fire-resistant; each new fire joins the
zone model and is published as :class:`~twin.events.FireSpread`. The zone model also limits
every fire to the oxygen its plume entrains (:mod:`twin.fire.zone`).

Records interface height, temperature, soot, CO, CO2 and O2 of every compartment every
``record_every_s`` and gives ASET per compartment (:meth:`FireComponent.result`).
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from geometry.site import DeviceKind, Site
from twin.events import AlarmRaised, DetectorActivated, Event, FireSpread
from twin.fire.compartments import (KIND_CORRIDOR, KIND_OPEN, KIND_UNIT, VENT_WINDOW, WINDOW_HEIGHT_M,
                                    WINDOW_WIDTH_M, CompartmentNetwork, site_network)
from twin.fire.detectors import DEFAULT_SMOKE_OBSCURATION_PER_M, DetectorBank
from twin.fire.sources import FireSource
from twin.fire.spread import SpreadRules, external_flame_height_m, hamada_arrival_s
from twin.fire.zone import ZoneModel, ZoneResult

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = ["FireComponent", "zone_model_of"]

ALARM_DELAY_S = 10.0
PHONE_DELAY_S = 120.0
ALARM_ARRANGEMENTS = ("building", "local", "phone")
CUE_HEAD_M = 1.83
_SOOT_K = 8700.0  # m²/kg
_UNIT_RE = re.compile(r"^(?P<b>.+)-L(?P<lv>-?\d+)-(?P<u>[UR]\d+)$")


def zone_model_of(net: CompartmentNetwork, **kw: Any) -> ZoneModel:
    """A :class:`ZoneModel` over a compartment network (vents with their default states)."""
    vents = np.column_stack([net.vent_a, net.vent_b, net.vent_width_m, net.vent_bottom_z_m, net.vent_top_z_m,
                             net.vent_open]) if len(net.vent_ids) else np.zeros((0, 6))
    per = 4.0 * np.sqrt(np.asarray(net.area_m2, dtype=float))
    return ZoneModel(ids=list(net.ids), area_m2=net.area_m2, height_m=net.height_m, floor_z_m=net.floor_z_m,
                     perimeter_m=per, vents=vents, **kw)


class FireComponent:
    """Fires in ``site`` (module docstring). ``fires``: sources whose ``compartment`` is a
    compartment id of the site's networks (a flat ``B03-L05-U02``, a corridor ``B03-L05-C``, a
    stair ``B03-S1`` ...). Only the burning buildings are modelled."""

    name = "fire"

    def __init__(self, site: Site, fires: Sequence[FireSource], *, dt: float = 0.5, record_every_s: float = 5.0,
                 alarm_delay_s: float = ALARM_DELAY_S, door_left_open_s: float = 60.0,
                 stair_door_fraction: float = 0.5, alarm: str = "building", phone_delay_s: float = PHONE_DELAY_S,
                 spread: SpreadRules | None = None) -> None:
        if not fires:
            raise ValueError("FireComponent: give at least one fire source")
        if alarm not in ALARM_ARRANGEMENTS:
            raise ValueError(f"FireComponent: alarm arrangement {alarm!r}; expected one of {', '.join(ALARM_ARRANGEMENTS)}")
        if not (math.isfinite(phone_delay_s) and phone_delay_s >= 0):
            raise ValueError(f"FireComponent: phone_delay_s must be a finite number >= 0, got {phone_delay_s!r}")
        self.site = site
        self.fires = list(fires)
        self.alarm = alarm
        self.phone_delay_s = float(phone_delay_s)
        self.spread = SpreadRules() if spread is None else spread
        origins = sorted({f.compartment.split("-")[0] for f in self.fires})
        known = {b.id for b in site.buildings}
        bad = [f.compartment for f in self.fires if f.compartment.split("-")[0] not in known]
        if bad:
            raise ValueError(f"FireComponent: fire compartment {bad[0]!r} names no building of the site")
        # buildings a fire could reach by Hamada's spread are modelled from the start
        reach = hamada_arrival_s(site, {b: 0.0 for b in origins}, self.spread) if self.spread.enabled else {}
        buildings = origins + sorted(set(reach) - set(origins))
        self.net = site_network(site, buildings=buildings)
        self.zone = zone_model_of(self.net)
        for f in self.fires:
            self.zone.index(f.compartment)  # KeyError with did-you-mean
        # door states over time (vent index -> (time, open fraction)): the occupants of the room of
        # origin flee and leave its door open ``door_left_open_s`` after ignition; once a
        # building's alarm sounds, evacuees keep the stair doors of every storey ajar
        # (``stair_door_fraction``; GB 50016 fire doors are self-closing, but a stream of people
        # holds them open)
        self._door_plan: list[tuple[float, int, float]] = []
        for f in self.fires:
            for v in self.net.vents_of(f.compartment):
                if self.net.vent_kind[v] == 0:
                    self._door_plan.append((f.t_ignition_s + door_left_open_s, int(v), 1.0))
        self.stair_door_fraction = float(stair_door_fraction)
        self.dt = float(dt)
        self.record_every_s = float(record_every_s)
        self.alarm_delay_s = float(alarm_delay_s)
        # detectors: the room of origin by ceiling jet, the others by the zone layer's soot
        self.banks: list[tuple[FireSource, DetectorBank]] = []
        for f in self.fires:
            b, level = self._where(f.compartment)
            xy = self._centre(f.compartment)
            unit = f.compartment if f.compartment in site.building(b).unit_ids(level) else None
            try:
                bank = DetectorBank.from_site(site, fire_xy=xy, building=b, level=level, unit=unit)
            except Exception:  # a storey without detectors: the zone detectors still see the smoke
                continue
            if len(bank.ids):
                self.banks.append((f, bank))
        near = {i for _, bank in self.banks for i in bank.ids}
        self.zone_dets: list[tuple[str, str, int]] = []  # device id, kind, compartment index
        for d in site.devices:
            if d.kind != DeviceKind.SMOKE_DETECTOR or d.building not in buildings or d.id in near:
                continue
            cid = d.unit if d.unit else (f"{d.building}-L{d.level:02d}-C" if d.level is not None else None)
            if cid is not None and cid in self.zone.ids:
                self.zone_dets.append((d.id, d.kind.value, self.zone.index(cid)))
        self.activated: dict[str, float] = {}
        self.alarmed: dict[str, float] = {}
        self.unit_alarms: dict[str, float] = {}
        # spread state: compartment -> time
        self.ignited: dict[str, tuple[float, str, str]] = {f.compartment: (f.t_ignition_s, "", "ignition")
                                                           for f in self.fires}
        self.flashover: dict[str, float] = {}
        self.windows_broken: dict[str, float] = {}
        self._pending: dict[str, tuple[float, str, str]] = {}
        self._leapt: set[str] = set()
        self._hamada_done: set[str] = set()
        kinds = np.asarray(self.net.kind)
        self._window = {self.net.vent_ids[v].rsplit(":", 1)[0]: int(v)
                        for v in np.flatnonzero(np.asarray(self.net.vent_kind) == VENT_WINDOW)}
        self._kind = kinds
        self._records: list[ZoneResult] = []
        self._twin: Twin | None = None
        self._next_rec = 0.0

    def _where(self, comp_id: str) -> tuple[str, int]:
        k = self.net.index(comp_id)
        return self.net.building[k], int(self.net.level[k])

    def _centre(self, comp_id: str) -> tuple[float, float]:
        from geometry.floorplan import storey_layout

        b, level = self._where(comp_id)
        lay = storey_layout(self.site.building(b), level)
        for u in lay.units:
            if u.id == comp_id:
                c = u.centre
                return (c.x, c.y)
        c = self.site.building(b).footprint.representative_point()
        return (c.x, c.y)

    # ------------------------------------------------------------------ twin
    def attach(self, twin: Twin) -> None:
        self._twin = twin

    def on_event(self, event: Event) -> None:
        return None

    def step(self, t: float, dt: float) -> None:
        self.advance(t, dt)

    def advance(self, t: float, dt: float) -> list[str]:
        """Step the zone model and the detectors from ``t`` by ``dt`` (s); returns the devices
        that went into alarm."""
        if abs(self.zone.t - t) > 1e-6:
            self.zone.t = float(t)
        for when, v, frac in self._door_plan:
            if when <= t + 1e-9:
                self.zone.vopen[v] = max(self.zone.vopen[v], frac)
        self._start_pending(t)
        res = self.zone.run(self.fires, until_s=t + dt, dt=min(self.dt, dt), record_every_s=max(self.dt, min(self.dt, dt)))
        if t + 1e-9 >= self._next_rec:
            self._records.append(_last(res))
            self._next_rec = t + self.record_every_s
        if self.spread.enabled:
            self._spread(t + dt, res)
        if self.alarm == "phone":
            self._phone_cues(t + dt, res)
        new: list[str] = []
        for f, bank in self.banks:
            q0, q1 = float(f.hrr_kw(t)), float(f.hrr_kw(t + dt))
            for i in bank.advance(t, dt, (q0, q1)):
                new.append(bank.ids[int(i)])
        if self.zone_dets:
            zi = res.interface_m[-1]
            soot = res.soot_kg_m3[-1]
            ok_depth = (self.zone.height - zi) >= 0.1
            k_thr = -math.log(1.0 - DEFAULT_SMOKE_OBSCURATION_PER_M) / _SOOT_K
            for dev, _kind, c in self.zone_dets:
                if dev not in self.activated and ok_depth[c] and soot[c] >= k_thr:
                    new.append(dev)
        for dev in new:
            if dev in self.activated:
                continue
            self.activated[dev] = t + dt
            d = next((d for d in self.site.devices if d.id == dev), None)
            if self._twin is not None:
                self._twin.bus.publish(DetectorActivated(t=t + dt, device=dev, kind=d.kind.value if d else "smoke_detector"))
            if d is None or not d.building or self.alarm == "phone":
                continue
            if self.alarm == "building":
                self._raise_building(d.building, t + dt + self.alarm_delay_s, f"fire: detector {dev} in alarm")
            else:
                if d.unit:
                    self._raise_unit(d.building, d.unit, t + dt, f"fire: smoke alarm {dev} sounds in the flat")
                self._raise_building(d.building, t + dt + self.phone_delay_s,
                                     f"fire: reported by phone after smoke alarm {dev}")
        return new

    # ------------------------------------------------------------------ alarms
    def _raise_building(self, b: str, when: float, reason: str) -> None:
        if b in self.alarmed:
            return
        self.alarmed[b] = when
        stair_doors = np.flatnonzero((np.asarray(self.net.vent_kind) == 1)
                                     & (np.asarray(self.net.building)[self.net.vent_a] == b))
        self._door_plan += [(when, int(v), self.stair_door_fraction) for v in stair_doors]
        if self._twin is not None:
            self._twin.schedule(AlarmRaised(t=when, building=b, level="building", severity="red", reason=reason),
                                at=when)

    def _raise_unit(self, b: str, unit: str, when: float, reason: str) -> None:
        if unit in self.unit_alarms or b in self.alarmed and self.alarmed[b] <= when:
            return
        self.unit_alarms[unit] = when
        if self._twin is not None:
            self._twin.schedule(AlarmRaised(t=when, subject=unit, building=b, level="unit", severity="red",
                                            reason=reason), at=when)

    def _phone_cues(self, now: float, res: ZoneResult) -> None:
        """``alarm="phone"``: the occupants of a burning flat notice its smoke at head height."""
        zi = res.interface_m[-1]
        for f in self.fires:
            c = self.zone.index(f.compartment)
            if self._kind[c] != KIND_UNIT or f.compartment in self.unit_alarms or zi[c] >= CUE_HEAD_M:
                continue
            b = self.net.building[c]
            self._raise_unit(b, f.compartment, now, "fire: the occupants notice smoke")
            self._raise_building(b, now + self.phone_delay_s, f"fire: reported by phone from {f.compartment}")

    # ------------------------------------------------------------------ spread
    def _publish(self, ev: Event) -> None:
        if self._twin is not None:
            self._twin.bus.publish(ev)

    def _plan_ignition(self, comp: str, when: float, origin: str, mechanism: str) -> None:
        if comp in self.ignited or comp not in self.zone.ids:
            return
        old = self._pending.get(comp)
        if old is None or when < old[0]:
            self._pending[comp] = (when, origin, mechanism)

    def _start_pending(self, t: float) -> None:
        due = sorted((w, c, o, m) for c, (w, o, m) in self._pending.items() if w <= t + 1e-9)
        for when, comp, origin, mech in due:
            del self._pending[comp]
            parent = next((f for f in self.fires if f.compartment == origin), self.fires[0])
            self.fires.append(dataclasses.replace(parent, compartment=comp, t_ignition_s=when))
            self.ignited[comp] = (when, origin, mech)
            self._publish(FireSpread(t=max(when, t), compartment=comp, origin=origin, mechanism=mech))
            w = self._window.get(comp)
            if mech == "window" and w is not None:  # the flames came in through the broken pane
                self.windows_broken[comp] = when
                self.zone.vopen[w] = 1.0

    def _above(self, comp: str) -> str | None:
        m = _UNIT_RE.match(comp)
        if m is None:
            return None
        up = f"{m['b']}-L{int(m['lv']) + 1:02d}-{m['u']}"
        return up if up in self.zone.ids else None

    def _beside(self, comp: str) -> list[str]:
        from geometry.floorplan import storey_layout

        m = _UNIT_RE.match(comp)
        if m is None:
            return []
        lay = storey_layout(self.site.building(m["b"]), int(m["lv"]))
        me = next((u for u in lay.units if u.id == comp), None)
        if me is None:
            return []
        return [u.id for u in lay.units if u.id != comp and u.polygon.distance(me.polygon) < 0.3]

    def _spread(self, now: float, res: ZoneResult) -> None:
        """Windows, flashover and the spread rules of :mod:`twin.fire.spread` for every burning
        flat or room."""
        rules = self.spread
        tu = res.temp_c[-1]
        q = res.extra.get("hrr_kw", np.zeros(len(self.fires)))
        for k, f in enumerate(self.fires):
            cid = f.compartment
            c = self.zone.index(cid)
            if self._kind[c] != KIND_UNIT:
                continue
            w = self._window.get(cid)
            if w is not None and cid not in self.windows_broken and tu[c] >= rules.window_break_c:
                self.windows_broken[cid] = now
                self.zone.vopen[w] = 1.0
                self._publish(FireSpread(t=now, compartment=cid, origin=cid, mechanism="window_broken"))
            if cid not in self.flashover and tu[c] >= rules.flashover_c:
                self.flashover[cid] = now
                self._publish(FireSpread(t=now, compartment=cid, origin=cid, mechanism="flashover"))
                for nb in self._beside(cid):
                    self._plan_ignition(nb, now + rules.wall_rating_s, cid, "wall")
                up = self._above(cid)
                if up is not None:
                    self._plan_ignition(up, now + rules.floor_rating_s, cid, "floor")
                b = self.net.building[c]
                if b not in self._hamada_done:
                    self._hamada_done.add(b)
                    for other, when in hamada_arrival_s(self.site, {b: now}, rules).items():
                        if other != b:
                            first = self._first_compartment(other)
                            if first is not None:
                                self._plan_ignition(first, when, cid, "hamada")
            if (cid in self.flashover and cid in self.windows_broken and cid not in self._leapt
                    and k < len(q)):
                h = float(self.site.building(self.net.building[c]).storey_height_m)
                spandrel = h - WINDOW_HEIGHT_M
                if external_flame_height_m(float(q[k]), WINDOW_WIDTH_M, WINDOW_HEIGHT_M) >= spandrel:
                    self._leapt.add(cid)
                    up = self._above(cid)
                    if up is not None:
                        self._plan_ignition(up, now + rules.leap_delay_s, cid, "window")

    def _first_compartment(self, b: str) -> str | None:
        """Where a fire arriving from outside starts: a ground-level flat or room, else the
        open storey or corridor."""
        idx = [i for i in range(len(self.zone.ids)) if self.net.building[i] == b]
        for kinds in ((KIND_UNIT,), (KIND_OPEN, KIND_CORRIDOR)):
            cands = [i for i in idx if self._kind[i] in kinds]
            if cands:
                return self.zone.ids[min(cands, key=lambda i: (abs(int(self.net.level[i])), i))]
        return None

    # ------------------------------------------------------------------ results
    def result(self) -> ZoneResult:
        """The recorded compartment series (every ``record_every_s``)."""
        if not self._records:
            raise ValueError("FireComponent.result: nothing recorded yet; run the twin first")
        rs = self._records
        return ZoneResult(self.zone.ids, np.array([r.t[0] for r in rs]),
                          *(np.stack([getattr(r, k)[0] for r in rs]) for k in
                            ("interface_m", "temp_c", "soot_kg_m3", "co_ppm", "co2_pct", "o2_pct", "layer_kg")))

    def result_frame(self) -> Any:
        """The recorded series as a long table: t_s, compartment, interface_m, temp_c,
        soot_kg_m3, visibility_m, co_ppm, co2_pct, o2_pct (compartments that ever had smoke)."""
        import pandas as pd

        r = self.result()
        cols = np.flatnonzero(r.layer_kg.max(axis=0) > 0)
        vis = r.visibility_m()
        frames = [pd.DataFrame({"t_s": r.t, "compartment": r.ids[c], "interface_m": r.interface_m[:, c],
                                "temp_c": r.temp_c[:, c], "soot_kg_m3": r.soot_kg_m3[:, c],
                                "visibility_m": np.minimum(vis[:, c], 1e3), "co_ppm": r.co_ppm[:, c],
                                "co2_pct": r.co2_pct[:, c], "o2_pct": r.o2_pct[:, c]}) for c in cols]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["t_s", "compartment", "interface_m", "temp_c", "soot_kg_m3", "visibility_m", "co_ppm",
                     "co2_pct", "o2_pct"])

    def summary(self) -> dict[str, Any]:
        """Per burning building: first detector, alarm time, the compartments that became
        untenable first with their ASET (s)."""
        res = self.result()
        aset = res.aset_s()
        out: dict[str, Any] = {}
        for b in sorted({f.compartment.split("-")[0] for f in self.fires}):
            idx = np.flatnonzero(np.array(self.net.building) == b)
            order = idx[np.argsort(aset[idx], kind="stable")]
            first = [{"compartment": self.zone.ids[i], "aset_s": round(float(aset[i]), 1)}
                     for i in order[:10] if np.isfinite(aset[i])]
            mine = {d.id for d in self.site.devices if d.building == b}
            dets = sorted((tt, d) for d, tt in self.activated.items() if d in mine)
            bfires = [(c, w) for c, w in self.ignited.items() if c.split("-")[0] == b]
            out[b] = {"alarm_arrangement": self.alarm,
                      "first_detector": dets[0][1] if dets else None,
                      "first_detection_s": round(dets[0][0], 1) if dets else None,
                      "unit_alarms": {u: round(tt, 1) for u, tt in sorted(self.unit_alarms.items())
                                      if u.split("-")[0] == b},
                      "alarm_s": round(self.alarmed[b], 1) if b in self.alarmed else None,
                      "fires": [{"compartment": c, "ignition_s": round(w[0], 1), "from": w[1] or None,
                                 "mechanism": w[2], "flashover_s": _r(self.flashover.get(c)),
                                 "window_broken_s": _r(self.windows_broken.get(c))}
                                for c, w in sorted(bfires, key=lambda cw: cw[1][0])],
                      "untenable_compartments": int(np.isfinite(aset[idx]).sum()),
                      "compartments": int(idx.size), "first_untenable": first}
        return out

    def get_state(self) -> dict[str, Any]:
        z = self.zone
        return {"zone": {k: getattr(z, k).copy() for k in ("mu", "hu", "sp", "in_m", "in_h", "out_m", "out_h",
                                                          "wall_h", "vopen")} | {"t": z.t},
                "banks": [(b.td_c.copy(), b.activation_s.copy(), b.t) for _, b in self.banks],
                "activated": dict(self.activated), "alarmed": dict(self.alarmed), "records": list(self._records),
                "next_rec": self._next_rec, "fires": list(self.fires), "unit_alarms": dict(self.unit_alarms),
                "ignited": dict(self.ignited), "flashover": dict(self.flashover),
                "windows_broken": dict(self.windows_broken), "pending": dict(self._pending),
                "leapt": set(self._leapt), "hamada_done": set(self._hamada_done), "door_plan": list(self._door_plan)}

    def set_state(self, st: dict[str, Any]) -> None:
        z = self.zone
        for k, v in st["zone"].items():
            if k == "t":
                z.t = float(v)
            else:
                getattr(z, k)[...] = v
        for (_, b), (td, act, tb) in zip(self.banks, st["banks"]):
            b.td_c[...] = td
            b.activation_s[...] = act
            b.t = tb
        self.activated = dict(st["activated"])
        self.alarmed = dict(st["alarmed"])
        self._records = list(st["records"])
        self._next_rec = float(st["next_rec"])
        self.fires = list(st["fires"])
        self.unit_alarms = dict(st["unit_alarms"])
        self.ignited = dict(st["ignited"])
        self.flashover = dict(st["flashover"])
        self.windows_broken = dict(st["windows_broken"])
        self._pending = dict(st["pending"])
        self._leapt = set(st["leapt"])
        self._hamada_done = set(st["hamada_done"])
        self._door_plan = list(st["door_plan"])


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 1)


def _last(res: ZoneResult) -> ZoneResult:
    return ZoneResult(res.ids, res.t[-1:], res.interface_m[-1:], res.temp_c[-1:], res.soot_kg_m3[-1:],
                      res.co_ppm[-1:], res.co2_pct[-1:], res.o2_pct[-1:], res.layer_kg[-1:])
