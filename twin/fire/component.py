"""Fire and smoke in the twin: the zone model of the burning building, its detectors and the
alarm they raise.

:class:`FireComponent` steps the two-zone model (:mod:`twin.fire.zone`) of the buildings that
burn, over their compartment networks (:mod:`twin.fire.compartments`), every tick; feeds the
detectors of the room of origin with Alpert's ceiling jet (:mod:`twin.fire.detectors`) and the
smoke detectors of every other compartment with the layer's soot (activation when the layer's
obscuration exceeds the detector's threshold, 3.24 %/m by default, and the layer is at least
0.1 m deep at the ceiling); publishes :class:`~twin.events.DetectorActivated` for each and, on
the first activation in a building, :class:`~twin.events.AlarmRaised` for that building
``alarm_delay_s`` later (10 s: smart smoke detectors alert the centre and the family within
~10 s, ``shared/domain.md`` practice 7) — the alarm the crowd model starts on.

Records interface height, temperature, soot, CO, CO2 and O2 of every compartment every
``record_every_s`` and gives ASET per compartment (:meth:`FireComponent.result`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from geometry.site import DeviceKind, Site
from twin.events import AlarmRaised, DetectorActivated, Event
from twin.fire.compartments import CompartmentNetwork, site_network
from twin.fire.detectors import DEFAULT_SMOKE_OBSCURATION_PER_M, DetectorBank
from twin.fire.sources import FireSource
from twin.fire.zone import ZoneModel, ZoneResult

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = ["FireComponent", "zone_model_of"]

ALARM_DELAY_S = 10.0
_SOOT_K = 8700.0  # m²/kg


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
                 stair_door_fraction: float = 0.5) -> None:
        if not fires:
            raise ValueError("FireComponent: give at least one fire source")
        self.site = site
        self.fires = list(fires)
        buildings = sorted({f.compartment.split("-")[0] for f in self.fires})
        known = {b.id for b in site.buildings}
        bad = [f.compartment for f in self.fires if f.compartment.split("-")[0] not in known]
        if bad:
            raise ValueError(f"FireComponent: fire compartment {bad[0]!r} names no building of the site")
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
        res = self.zone.run(self.fires, until_s=t + dt, dt=min(self.dt, dt), record_every_s=max(self.dt, min(self.dt, dt)))
        if t + 1e-9 >= self._next_rec:
            self._records.append(_last(res))
            self._next_rec = t + self.record_every_s
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
            b = next((d.building for d in self.site.devices if d.id == dev), None) or ""
            if self._twin is not None:
                self._twin.bus.publish(DetectorActivated(t=t + dt, device=dev, kind="smoke_detector"))
            if b and b not in self.alarmed:
                self.alarmed[b] = t + dt + self.alarm_delay_s
                stair_doors = np.flatnonzero((np.asarray(self.net.vent_kind) == 1)
                                             & (np.asarray(self.net.building)[self.net.vent_a] == b))
                self._door_plan += [(self.alarmed[b], int(v), self.stair_door_fraction) for v in stair_doors]
                if self._twin is not None:
                    self._twin.schedule(AlarmRaised(t=self.alarmed[b], building=b, level="building", severity="red",
                                                    reason=f"fire: detector {dev} in alarm"), at=self.alarmed[b])
        return new

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
            dets = sorted((tt, d) for d, tt in self.activated.items())
            out[b] = {"first_detector": dets[0][1] if dets else None,
                      "first_detection_s": round(dets[0][0], 1) if dets else None,
                      "alarm_s": round(self.alarmed[b], 1) if b in self.alarmed else None,
                      "untenable_compartments": int(np.isfinite(aset[idx]).sum()),
                      "compartments": int(idx.size), "first_untenable": first}
        return out

    def get_state(self) -> dict[str, Any]:
        z = self.zone
        return {"zone": {k: getattr(z, k).copy() for k in ("mu", "hu", "sp", "in_m", "in_h", "out_m", "out_h",
                                                          "wall_h", "vopen")} | {"t": z.t},
                "banks": [(b.td_c.copy(), b.activation_s.copy(), b.t) for _, b in self.banks],
                "activated": dict(self.activated), "alarmed": dict(self.alarmed), "records": list(self._records),
                "next_rec": self._next_rec}

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


def _last(res: ZoneResult) -> ZoneResult:
    return ZoneResult(res.ids, res.t[-1:], res.interface_m[-1:], res.temp_c[-1:], res.soot_kg_m3[-1:],
                      res.co_ppm[-1:], res.co2_pct[-1:], res.o2_pct[-1:], res.layer_kg[-1:])
