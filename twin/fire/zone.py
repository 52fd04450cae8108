"""Two-zone smoke model over a network of compartments (all buildings at once, numba).

A simplified CFAST-style zone model (Jones, Peacock, Forney & Reneke, "CFAST — Consolidated
Model of Fire Growth and Smoke Transport", NIST TN 1889; Quintiere, "Compartment fire
modeling", SFPE Handbook ch. 32). Each compartment holds a hot upper layer over an ambient
lower layer:

* **Plume**: a fire of HRR Q entrains lower-layer air at the Heskestad (1984) rate
  (m = 0.071 Qc^1/3 z^5/3 + 0.0018 Qc above the limiting flame height, 0.032 Qc^3/5 z below,
  Qc = 0.7 Q, z from the fire's base to the interface — NFPA 92 form) and carries Qc and the
  fuel's products (soot, CO, CO2 yields of :mod:`twin.fire.sources`; O2 consumed at
  1 kg per 13,100 kJ, Huggett 1980) into the upper layer.
* **Oxygen limit** (ventilation-limited burning, as CFAST limits a fire by the oxygen its plume
  entrains: Jones et al., TN 1889 §5.1): a fire releases at most 13,100 kJ/kg x 0.232 x the
  entrained air mass flow, so a fire engulfed by its own layer in a closed room starves, and
  grows again when an opened door or a broken window lets the layer out; what burnt is in
  ``ZoneResult.extra["hrr_kw"]`` (last step) and ``extra["energy_kj"]`` (since the start).
* **Vents**: hot gas leaves a layer through an open door or window whose top lies above the
  interface, at the orifice rate of a stratified opening above its neutral plane,
  m = (2/3) Cd W sqrt(2 g rho_u (rho_far - rho_u)) (z_top - max(z_i, z_bottom))^3/2 with
  Cd = 0.7 (Emmons, SFPE Handbook ch. 34), and joins the receiving compartment's upper layer
  (or leaves the system, outside). Open fractions may change during a run (doors opened by
  evacuees, held by injects, windows broken).
* **Losses**: the layer loses h (T_u - T_a) over the ceiling and the wall area it touches,
  h = 10 W/(m² K) by default (a mixed convective coefficient of the order CFAST's correlations
  give for ceiling jets; calibrated against NFPA 92's filling correlations, see the validation
  tests).
* **Stair shafts** are single tall compartments: smoke let in at any storey rises into the
  shaft's upper layer, which fills the shaft from the top down.

Simplifications (stated, and what they cost): the lower layer stays ambient and clean (no
lower-layer contamination, no door-jet mixing); no radiation exchange or wall conduction model;
constant pressure (a layer that would overfill its compartment spills the excess outside,
standing for leakage); quasi-steady plume; the oxygen limit uses ambient lower-layer air (no
vitiation of the lower layer); unburnt fuel does not burn in the next room.

Outputs per compartment and time: interface height, upper-layer temperature, soot density,
CO (ppm), CO2 and O2 (vol %), visibility; from them the tenability of :mod:`twin.fire.tenability`
and ASET per compartment. Mass and energy ledgers close to rounding (validation tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from twin.fire import _zone_kernel as K
from twin.fire.sources import FireSource

__all__ = ["ZoneModel", "ZoneResult", "O2_PER_KJ"]

#: kg O2 consumed per kJ released (Huggett 1980: 13.1 MJ per kg O2).
O2_PER_KJ = 1.0 / 13_100.0
_M_AIR, _M_CO, _M_CO2, _M_O2 = 28.97, 28.01, 44.01, 32.0
_Y_O2_AIR = 0.232  # mass fraction of O2 in air
SOOT, CO, CO2, O2_USED = 0, 1, 2, 3


@dataclass
class ZoneResult:
    """Recorded series: ``t`` [nt] (s); per compartment [nt, C]: ``interface_m`` (above the
    floor), ``temp_c``, ``soot_kg_m3``, ``co_ppm``, ``co2_pct``, ``o2_pct``, ``layer_kg``."""

    ids: list[str]
    t: np.ndarray
    interface_m: np.ndarray
    temp_c: np.ndarray
    soot_kg_m3: np.ndarray
    co_ppm: np.ndarray
    co2_pct: np.ndarray
    o2_pct: np.ndarray
    layer_kg: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def column(self, comp_id: str) -> int:
        try:
            return self.ids.index(comp_id)
        except ValueError:
            raise KeyError(f"no compartment {comp_id!r} in the result") from None

    def visibility_m(self, *, lit: bool = False) -> np.ndarray:
        """Visibility in the upper layer, S = C / (8700 m²/kg x soot density), C = 3 or 8 (m)."""
        k = 8700.0 * self.soot_kg_m3
        with np.errstate(divide="ignore"):
            return np.where(k > 0, (8.0 if lit else 3.0) / np.maximum(k, 1e-30), np.inf)

    def aset_s(self, *, head_m: float = 1.83, temp_c: float = 60.0, visibility_m: float = 10.0) -> np.ndarray:
        """Per compartment: the first recorded time the smoke layer is below ``head_m`` and either
        hotter than ``temp_c`` or with a visibility under ``visibility_m`` (fire.md limits;
        inf when never)."""
        bad = (self.interface_m < head_m) & ((self.temp_c > temp_c) | (self.visibility_m() < visibility_m))
        out = np.full(bad.shape[1], np.inf)
        any_bad = bad.any(axis=0)
        out[any_bad] = self.t[np.argmax(bad[:, any_bad], axis=0)]
        return out


class ZoneModel:
    """The two-zone model (module docstring) over compartments with floor ``area_m2``,
    ``height_m``, absolute ``floor_z_m`` and ``perimeter_m`` (for wall losses), joined by vents
    ``(a, b, width_m, bottom_z_m, top_z_m, open)`` with b = -1 for outside."""

    def __init__(
        self,
        *,
        ids: Sequence[str],
        area_m2: Any,
        height_m: Any,
        floor_z_m: Any = 0.0,
        perimeter_m: Any = None,
        vents: Sequence[tuple[int, int, float, float, float, float]] = (),
        ambient_c: float = 20.0,
        h_wall_w_m2k: float = 10.0,
        convective_fraction: float = 0.7,
    ) -> None:
        self.ids = list(ids)
        n = len(self.ids)
        self.area = np.broadcast_to(np.asarray(area_m2, dtype=float), (n,)).copy()
        self.height = np.broadcast_to(np.asarray(height_m, dtype=float), (n,)).copy()
        self.floor_z = np.broadcast_to(np.asarray(floor_z_m, dtype=float), (n,)).copy()
        per = 4.0 * np.sqrt(self.area) if perimeter_m is None else np.broadcast_to(
            np.asarray(perimeter_m, dtype=float), (n,)).copy()
        self.perimeter = per
        for name, arr in (("area_m2", self.area), ("height_m", self.height), ("perimeter_m", self.perimeter)):
            bad = np.flatnonzero(~np.isfinite(arr) | (arr <= 0))
            if bad.size:
                raise ValueError(f"ZoneModel: {name} of compartment {self.ids[bad[0]]!r} must be > 0, got {arr[bad[0]]!r}")
        if not (0 < convective_fraction <= 1) or h_wall_w_m2k < 0 or not math.isfinite(ambient_c):
            raise ValueError("ZoneModel: convective_fraction in (0, 1], h_wall_w_m2k >= 0, finite ambient_c expected")
        v = np.asarray(vents, dtype=float).reshape(-1, 6)
        self.va = v[:, 0].astype(np.int64)
        self.vb = v[:, 1].astype(np.int64)
        self.vw, self.vbot, self.vtop = v[:, 2].copy(), v[:, 3].copy(), v[:, 4].copy()
        self.vopen = v[:, 5].copy()
        for k in range(len(v)):
            if not (0 <= self.va[k] < n) or not (-1 <= self.vb[k] < n) or self.vb[k] == self.va[k]:
                raise ValueError(f"ZoneModel: vent {k} joins compartments {self.va[k]} and {self.vb[k]}; "
                                 f"expected a in [0, {n}) and b in [-1, {n}), b != a")
            if not (self.vw[k] >= 0 and self.vtop[k] > self.vbot[k] and 0 <= self.vopen[k] <= 1):
                raise ValueError(f"ZoneModel: vent {k} needs width >= 0, top > bottom and open in [0, 1]")
        self.ta = ambient_c + 273.15
        self.h_wall = h_wall_w_m2k / 1000.0  # kW/(m² K)
        self.conv = float(convective_fraction)
        self.mu = np.zeros(n)
        self.hu = np.zeros(n)
        self.sp = np.zeros((n, 4))
        self.in_m = np.zeros(n)
        self.in_h = np.zeros(n)
        self.out_m = np.zeros(n)
        self.out_h = np.zeros(n)
        self.wall_h = np.zeros(n)
        self.t = 0.0

    def index(self, comp_id: str) -> int:
        try:
            return self.ids.index(comp_id)
        except ValueError:
            import difflib

            near = difflib.get_close_matches(comp_id, self.ids, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise KeyError(f"no compartment {comp_id!r}{hint}") from None

    def _fires(self, fires: Sequence[FireSource]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        comp = np.array([self.index(f.compartment) for f in fires], dtype=np.int64)
        base = np.zeros(len(fires))
        y = np.zeros((len(fires), 5))
        for k, f in enumerate(fires):
            fp = f.fuel_properties
            y[k] = (fp.soot_yield, fp.co_yield, fp.co2_yield, O2_PER_KJ, 1.0 / fp.heat_of_combustion_kj_kg)
        return comp, base, y

    def run(self, fires: Sequence[FireSource], *, until_s: float, dt: float = 0.5, record_every_s: float = 5.0
            ) -> ZoneResult:
        """Run from the model's clock to ``until_s`` (s) with the given fires; record every
        ``record_every_s``. Returns the recorded :class:`ZoneResult`."""
        if not (dt > 0 and until_s > self.t and record_every_s >= dt):
            raise ValueError("ZoneModel.run: need dt > 0, until_s after the current time, record_every_s >= dt")
        n_steps = int(math.ceil((until_s - self.t) / dt - 1e-9))
        rec_every = max(1, int(round(record_every_s / dt)))
        comp, base, y = self._fires(fires)
        tmid = self.t + (np.arange(n_steps) + 0.5) * dt
        q = np.zeros((n_steps, len(fires)))
        for k, f in enumerate(fires):
            q[:, k] = f.hrr_kw(tmid)
        nrec = n_steps // rec_every + 1
        n = len(self.ids)
        rz, rt, rm = np.zeros((nrec, n)), np.zeros((nrec, n)), np.zeros((nrec, n))
        rs = np.zeros((nrec, n, 4))
        q_eff, e_fire = np.zeros(len(fires)), np.zeros(len(fires))
        K.run(n_steps, dt, self.ta, rec_every, self.mu, self.hu, self.sp, self.area, self.height, self.floor_z,
              self.perimeter, self.h_wall, comp, q, base, y, self.conv, self.va, self.vb, self.vw, self.vbot,
              self.vtop, self.vopen, self.in_m, self.in_h, self.out_m, self.out_h, self.wall_h, rz, rt, rs, rm,
              q_eff, e_fire)
        t0 = self.t
        self.t = t0 + n_steps * dt
        res = self._result(t0 + np.arange(nrec) * rec_every * dt, rz, rt, rs, rm)
        res.extra["hrr_kw"] = q_eff
        res.extra["energy_kj"] = e_fire
        return res

    def _result(self, t: np.ndarray, rz: np.ndarray, rt: np.ndarray, rs: np.ndarray, rm: np.ndarray) -> ZoneResult:
        vol = np.where(rm > 0, rm * K.R_AIR * rt / K.P_ATM, np.inf)
        soot = np.where(rm > 0, rs[..., SOOT] / vol, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mol_gas = np.where(rm > 0, rm / _M_AIR, np.inf)
            co_ppm = np.where(rm > 0, rs[..., CO] / _M_CO / mol_gas * 1e6, 0.0)
            co2 = np.where(rm > 0, rs[..., CO2] / _M_CO2 / mol_gas * 100.0, 0.0)
            o2_mass_frac = np.where(rm > 0, (_Y_O2_AIR * rm - rs[..., O2_USED]) / rm, _Y_O2_AIR)
        o2 = np.clip(o2_mass_frac, 0.0, _Y_O2_AIR) * _M_AIR / _M_O2 * 100.0
        return ZoneResult(self.ids, t, rz, rt - 273.15, soot, co_ppm, co2, o2, rm)

    def state(self) -> ZoneResult:
        """The current layers as a one-row :class:`ZoneResult`."""
        n = len(self.ids)
        tu, zi = np.empty(n), np.empty(n)
        K.layer_state(self.mu, self.hu, self.area, self.height, self.ta, tu, zi)
        return self._result(np.array([self.t]), zi[None], tu[None], self.sp[None].copy(), self.mu[None].copy())

    def ledgers(self) -> dict[str, float]:
        """Mass (kg) and energy (kJ) ledgers: in, in the layers, out, to the walls."""
        return {"mass_in": float(self.in_m.sum()), "mass_layers": float(self.mu.sum()),
                "mass_out": float(self.out_m.sum()), "energy_in": float(self.in_h.sum()),
                "energy_layers": float(self.hu.sum()), "energy_out": float(self.out_h.sum()),
                "energy_walls": float(self.wall_h.sum())}
