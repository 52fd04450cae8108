"""Heat and smoke detector response to a fire under a flat ceiling (issue 4).

What: a :class:`DetectorBank` holds every detector of one compartment as arrays (kind, RTI,
activation temperature, ceiling height H above the fuel, radial distance r to the plume axis)
and integrates them all at once over an HRR history, giving activation times (s).

Models and sources
------------------
* Gas at the detector: Alpert's quasi-steady ceiling-jet correlations (R. L. Alpert,
  "Calculation of response time of ceiling-mounted fire detectors", Fire Technology 8 (1972)
  181-195; SFPE Handbook, "Ceiling jet flows"; NFPA 72 Annex B), Q total HRR (kW), H, r (m):
  dT = 16.9 Q^(2/3) / H^(5/3) for r/H <= 0.18, else 5.38 (Q/r)^(2/3) / H (K);
  u = 0.96 (Q/H)^(1/3) for r/H <= 0.15, else 0.195 Q^(1/3) H^(1/2) / r^(5/6) (m/s).
  Quasi-steady: the jet follows Q(t) without transport lag (Alpert's steady-fire relations
  applied to a growing fire, as DETACT-QS does).
* Heat detectors: DETACT (D. D. Evans and D. W. Stroup, "Methods to calculate the response time
  of heat and smoke detectors installed below large unobstructed ceilings", Fire Technology 22
  (1986) 54-65; NIST DETACT-QS; NFPA 72 Annex B): dT_d/dt = sqrt(u) (T_g - T_d) / RTI, alarm at
  T_d >= T_act. Integrated with the exact exponential update over each step (gas held at the
  step's mid-point HRR), so any step is stable and a steady fire is reproduced exactly.
  Defaults: RTI = 100 (m s)^0.5, a standard-response element (NFPA 72 Annex B relates listed
  spacing to RTI; fast-response elements are ~50 and below), and T_act = 57 °C (135 °F, the
  "ordinary" fixed-temperature rating of UL 521 / NFPA 72 Table 17.6.2.1, inside EN 54-5 class
  A1's static response range of 54-65 °C).
* Smoke detectors, surrogate 1 (default): temperature rise. Heskestad & Delichatsios
  ("Environments of fire detectors - Phase 1", NBS-GCR-77-86, 1977) found the optical density
  in the ceiling jet roughly proportional to its temperature rise; NFPA 72 Annex B therefore
  treats a smoke detector as a heat detector that alarms at a ceiling-jet temperature rise of
  10-13 °C. Here: alarm when the gas rise at the detector reaches ``smoke_rise_k`` = 13 K (the
  conservative end) with no thermal lag (RTI 0: the sensor follows the gas); a positive RTI may
  be given to model a lagged element instead.
* Smoke detectors, surrogate 2 (when the caller passes a soot density at the detectors):
  obscuration per metre 1 - exp(-K * 1 m), K = K_m * soot density with K_m = 8700 m²/kg (mass
  specific extinction coefficient, Mulholland & Croarkin 2000; the value in fire.md and NIST
  FDS), alarm at 3.24 %/m (about 1 %/ft; the default smoke-detector activation obscuration of
  NIST FDS, inside UL 268's 0.5-4 %/ft sensitivity window). No entry lag (FDS's Heskestad
  characteristic length) is modelled.

Geometric simplification (``from_site``): one flat, unobstructed ceiling per storey at the
storey height above the floor (``Building.storey_height_m``), the fuel surface ``fire_base_m``
above the floor, so H = storey height - fire_base_m for every detector of the storey; the
detector sits in the ceiling jet at the ceiling (its ``Device.z`` is not used); r is the
horizontal distance from the fire to the device. Walls, doors and the hot layer are ignored
(Alpert's correlations are for an unconfined ceiling), so far-off detectors of the storey are
treated as if under one open ceiling; pass ``unit=`` to keep only one dwelling's detectors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from shapely.geometry import Point

from geometry.site import DeviceKind, Site, SiteError
from twin.fire import _detector_kernel as _k

__all__ = [
    "DEFAULT_HEAT_RTI",
    "DEFAULT_HEAT_T_ACT_C",
    "DEFAULT_SMOKE_OBSCURATION_PER_M",
    "DEFAULT_SMOKE_RISE_K",
    "SOOT_MASS_EXTINCTION_M2_KG",
    "DetectorBank",
    "alpert_jet",
]

#: Standard-response heat detector RTI ((m s)^0.5).
DEFAULT_HEAT_RTI = 100.0
#: Fixed-temperature rating (°C), 135 °F "ordinary" (UL 521; EN 54-5 A1 static range 54-65 °C).
DEFAULT_HEAT_T_ACT_C = 57.0
#: Smoke detector surrogate: ceiling-jet temperature rise at alarm (K), NFPA 72 Annex B 10-13 °C.
DEFAULT_SMOKE_RISE_K = 13.0
#: Smoke detector alarm obscuration (fraction per metre), NIST FDS default 3.24 %/m.
DEFAULT_SMOKE_OBSCURATION_PER_M = 0.0324
#: Mass specific extinction coefficient of flaming-fire soot (m²/kg), Mulholland & Croarkin.
SOOT_MASS_EXTINCTION_M2_KG = 8700.0

_KIND_CODE = {DeviceKind.HEAT_DETECTOR: _k.HEAT, DeviceKind.SMOKE_DETECTOR: _k.SMOKE}


def alpert_jet(q_kw: float | np.ndarray, h_m: float | np.ndarray,
               r_m: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alpert ceiling-jet gas temperature rise (K) and velocity (m/s) for HRR ``q_kw`` (kW),
    ceiling height ``h_m`` above the fuel and radial distance ``r_m`` (m); broadcasts."""
    q, h, r = np.broadcast_arrays(np.asarray(q_kw, float), np.asarray(h_m, float),
                                  np.asarray(r_m, float))
    if np.any(~np.isfinite(h) | (h <= 0)):
        raise ValueError(f"alpert_jet: field 'h_m' must be positive, got {h[~(h > 0)][:3].tolist()}")
    if np.any(~np.isfinite(r) | (r < 0)):
        raise ValueError(f"alpert_jet: field 'r_m' must be >= 0, got {r[~(r >= 0)][:3].tolist()}")
    if np.any(~np.isfinite(q) | (q < 0)):
        raise ValueError(f"alpert_jet: field 'q_kw' must be >= 0, got {q[~(q >= 0)][:3].tolist()}")
    qf, hf, rf = (np.ascontiguousarray(a, dtype=float).ravel() for a in (q, h, r))
    dt = np.empty_like(qf)
    u = np.empty_like(qf)
    _k.alpert_arrays(qf, hf, rf, dt, u)
    return dt.reshape(q.shape), u.reshape(q.shape)


def _bad(where: str, fld: str, mask: np.ndarray, values: np.ndarray, ids: Sequence[str],
         expected: str) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(f"{ids[i]}={float(values[i])!r}" for i in idx[:5])
    more = f" (+{len(idx) - 5} more)" if len(idx) > 5 else ""
    return f"{where}: field '{fld}' must be {expected}; got {shown}{more}"


class DetectorBank:
    """All detectors of one compartment, as arrays, and their response to one fire.

    ``kinds``: :class:`DeviceKind` (or its value) per detector, smoke or heat detector.
    ``rti``: response time index ((m s)^0.5); > 0 for heat detectors, >= 0 for smoke detectors
    (0: no lag). ``t_act_c``: activation temperature (°C) for heat detectors; for smoke detectors
    NaN means "ambient + ``smoke_rise_k``" (the temperature-rise surrogate). ``h_m``: ceiling
    height above the fuel (m, > 0); ``r_m``: radial distance to the fire axis (m, >= 0). Each
    of the four may be a single number applying to every detector.

    ``ambient_c`` (°C) is the initial state's ambient (:meth:`reset` and :meth:`simulate` take
    their own); every activation temperature must lie above it.

    State (after :meth:`reset`, advanced by :meth:`advance` or :meth:`simulate`): ``t`` (s),
    ``td_c`` (sensing-element temperatures, °C), ``activation_s`` (s, NaN until activated).
    """

    def __init__(self, kinds: Iterable[DeviceKind | str], rti: Sequence[float] | np.ndarray,
                 t_act_c: Sequence[float] | np.ndarray, h_m: Sequence[float] | np.ndarray,
                 r_m: Sequence[float] | np.ndarray, ids: Sequence[str] | None = None, *,
                 smoke_rise_k: float = DEFAULT_SMOKE_RISE_K,
                 smoke_obscuration_per_m: float = DEFAULT_SMOKE_OBSCURATION_PER_M,
                 ambient_c: float = 20.0) -> None:
        kinds = list(kinds)
        n = len(kinds)
        self.ids: list[str] = [str(i) for i in ids] if ids is not None else [f"det-{i}" for i in range(n)]
        where = "DetectorBank"
        problems: list[str] = []
        if len(self.ids) != n:
            problems.append(f"{where}: field 'ids' has {len(self.ids)} entries, expected {n} (one per kind)")
        codes = np.empty(n, dtype=np.int64)
        for i, kd in enumerate(kinds):
            try:
                codes[i] = _KIND_CODE[DeviceKind(kd)]
            except (ValueError, KeyError):
                name = self.ids[i] if i < len(self.ids) else str(i)
                problems.append(f"{where}: field 'kinds' of {name} must be smoke_detector or heat_detector, got {kd!r}")
        arrays: dict[str, np.ndarray] = {}
        for fld, val in (("rti", rti), ("t_act_c", t_act_c), ("h_m", h_m), ("r_m", r_m)):
            a = np.asarray(val, dtype=float)
            a = np.full(n, float(a)) if a.ndim == 0 else a.ravel().copy()  # a number applies to all
            if a.shape[0] != n:
                problems.append(f"{where}: field '{fld}' has {a.shape[0]} entries, expected {n} (one per detector)")
            arrays[fld] = a
        if problems:
            raise ValueError("\n".join(problems))
        ids_ = self.ids
        rti_a, tact, h, r = arrays["rti"], arrays["t_act_c"], arrays["h_m"], arrays["r_m"]
        heat = codes == _k.HEAT
        checks = [
            ("rti", heat & ~(np.isfinite(rti_a) & (rti_a > 0)), rti_a, "> 0 (m s)^0.5 for heat detectors"),
            ("rti", ~heat & ~(np.isfinite(rti_a) & (rti_a >= 0)), rti_a, ">= 0 (m s)^0.5 for smoke detectors"),
            ("t_act_c", heat & ~np.isfinite(tact), tact, "a finite activation temperature (°C) for heat detectors"),
            ("t_act_c", ~heat & np.isinf(tact), tact, "finite, or NaN for the smoke temperature-rise surrogate"),
            ("h_m", ~(np.isfinite(h) & (h > 0)), h, "a positive ceiling height above the fuel (m)"),
            ("r_m", ~(np.isfinite(r) & (r >= 0)), r, "a radial distance >= 0 (m)"),
        ]
        for fld, mask, vals, expected in checks:
            if mask.any():
                problems.append(_bad(where, fld, mask, vals, ids_, expected))
        if not (math.isfinite(smoke_rise_k) and smoke_rise_k > 0):
            problems.append(f"{where}: field 'smoke_rise_k' must be a positive temperature rise (K), got {smoke_rise_k!r}")
        if not (0 < smoke_obscuration_per_m < 1):
            problems.append(f"{where}: field 'smoke_obscuration_per_m' must be a fraction in (0, 1), got {smoke_obscuration_per_m!r}")
        if problems:
            raise ValueError("\n".join(problems))
        self.kind = codes
        self.rti = rti_a
        self.t_act_c = tact
        self.h_m = h
        self.r_m = r
        self.smoke_rise_k = float(smoke_rise_k)
        self.smoke_obscuration_per_m = float(smoke_obscuration_per_m)
        self.reset(ambient_c=ambient_c)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_site(cls, site: Site, *, fire_xy: tuple[float, float], building: str, level: int,
                  unit: str | None = None, fire_base_m: float = 0.0,
                  kinds: Iterable[DeviceKind] = (DeviceKind.SMOKE_DETECTOR, DeviceKind.HEAT_DETECTOR),
                  heat_rti: float = DEFAULT_HEAT_RTI, heat_t_act_c: float = DEFAULT_HEAT_T_ACT_C,
                  smoke_rti: float = 0.0, smoke_rise_k: float = DEFAULT_SMOKE_RISE_K,
                  smoke_obscuration_per_m: float = DEFAULT_SMOKE_OBSCURATION_PER_M,
                  ambient_c: float = 20.0) -> DetectorBank:
        """The smoke/heat detectors of ``building``'s storey ``level`` (only those of dwelling
        ``unit`` when given) for a fire at ``fire_xy`` (m, site CRS) whose fuel surface is
        ``fire_base_m`` above the floor. H = storey height - fire_base_m (one flat ceiling per
        storey); r = horizontal distance device - fire. Raises :class:`SiteError` naming the
        field when the building, level, unit or fire position do not fit the site."""
        where = f"site {site.name!r}: DetectorBank.from_site"
        try:
            b = site.building(building)
        except KeyError:
            raise SiteError([f"{where}: field 'building' {building!r} is not a building of the site"],
                            source=site.source or None) from None
        problems: list[str] = []
        if level not in b.levels:
            problems.append(f"{where}: field 'level' {level!r} is not a level of building {b.id} "
                            f"({b.levels.start}..{b.levels.stop - 1})")
        if unit is not None and unit not in b.unit_ids(level):
            problems.append(f"{where}: field 'unit' {unit!r} is not a dwelling unit of {b.id} level {level}")
        fx, fy = (float(v) for v in fire_xy)
        if not (math.isfinite(fx) and math.isfinite(fy)) or b.footprint.buffer(1e-6).disjoint(Point(fx, fy)):
            problems.append(f"{where}: field 'fire_xy' ({fx}, {fy}) must lie inside building {b.id}'s footprint")
        h = b.storey_height_m - float(fire_base_m)
        if not (float(fire_base_m) >= 0 and h > 0):
            problems.append(f"{where}: field 'fire_base_m' must be >= 0 and below the ceiling "
                            f"({b.storey_height_m} m), got {fire_base_m!r}")
        if problems:
            raise SiteError(problems, source=site.source or None)
        wanted = {DeviceKind(k) for k in kinds}
        devs = [d for d in site.devices
                if d.kind in wanted and d.kind in _KIND_CODE and d.building == b.id and d.level == level
                and (unit is None or d.unit == unit)]
        kd = [d.kind for d in devs]
        rti = [heat_rti if k == DeviceKind.HEAT_DETECTOR else smoke_rti for k in kd]
        tact = [heat_t_act_c if k == DeviceKind.HEAT_DETECTOR else math.nan for k in kd]
        r = [math.hypot(d.position.x - fx, d.position.y - fy) for d in devs]
        return cls(kd, rti, tact, [h] * len(devs), r, [d.id for d in devs],
                   smoke_rise_k=smoke_rise_k, smoke_obscuration_per_m=smoke_obscuration_per_m,
                   ambient_c=ambient_c)

    # ----------------------------------------------------------------- state
    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def __repr__(self) -> str:
        n_heat = int((self.kind == _k.HEAT).sum())
        return f"DetectorBank({len(self)} detectors: {n_heat} heat, {len(self) - n_heat} smoke; t={self.t:g} s)"

    @property
    def activated(self) -> np.ndarray:
        """Boolean mask of the detectors that have activated."""
        return ~np.isnan(self.activation_s)

    def thresholds_c(self, ambient_c: float) -> np.ndarray:
        """Activation temperature per detector (°C) at ``ambient_c``: ``t_act_c`` or, for smoke
        detectors with NaN, ambient + ``smoke_rise_k``."""
        thr = self.t_act_c.copy()
        surrogate = np.isnan(thr)
        thr[surrogate] = ambient_c + self.smoke_rise_k
        return thr

    def reset(self, *, ambient_c: float = 20.0, t0_s: float = 0.0) -> None:
        """Start over at time ``t0_s`` with every element at ``ambient_c`` (°C). Raises
        ValueError when an activation temperature is not above the ambient."""
        if not math.isfinite(ambient_c) or ambient_c <= -273.15:
            raise ValueError(f"DetectorBank: field 'ambient_c' must be a temperature in °C, got {ambient_c!r}")
        thr = self.thresholds_c(float(ambient_c))
        low = thr <= ambient_c
        if low.any():
            raise ValueError(_bad("DetectorBank", "t_act_c", low, self.t_act_c, self.ids,
                                  f"above the ambient temperature {ambient_c} °C"))
        self.ambient_c = float(ambient_c)
        self.thr_c = thr
        self.t = float(t0_s)
        self.td_c = np.full(len(self), self.ambient_c)
        self.activation_s = np.full(len(self), np.nan)

    def _soot(self, soot: object, fld: str, shape: tuple[int, ...]) -> np.ndarray:
        a = np.asarray(soot, dtype=float)
        try:
            a = np.ascontiguousarray(np.broadcast_to(a, shape), dtype=float)
        except ValueError:
            raise ValueError(f"DetectorBank: field '{fld}' of shape {a.shape} does not fit {shape}") from None
        if not np.all(np.isfinite(a) & (a >= 0)):
            raise ValueError(f"DetectorBank: field '{fld}' must hold soot densities >= 0 (kg/m³)")
        return a

    # ----------------------------------------------------------------- time stepping
    def advance(self, t: float, dt: float, q_kw: float | tuple[float, float],
                gas_override: tuple[np.ndarray, np.ndarray] | None = None, *,
                soot_kg_m3: float | np.ndarray | tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """Advance the bank from ``t`` to ``t + dt`` (s). ``q_kw``: the HRR over the step (kW),
        a number (constant) or ``(q_start, q_end)`` (linear). ``gas_override``: ``(rise_k, u_m_s)``
        per detector (gas temperature rise above ambient, K, and velocity, m/s) used instead of
        Alpert, e.g. from a zone model's layer. ``soot_kg_m3``: soot density at the detectors
        (kg/m³; a number, an array per detector, or a (start, end) pair) switching smoke detectors
        to the obscuration criterion. Returns the indices of detectors activated in this step."""
        if not math.isfinite(t) or abs(t - self.t) > 1e-9 * max(1.0, abs(t)):
            raise ValueError(f"DetectorBank.advance: field 't' is {t!r} but the bank is at t = {self.t} s")
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"DetectorBank.advance: field 'dt' must be a positive step (s), got {dt!r}")
        q0, q1 = (q_kw if isinstance(q_kw, tuple) else (q_kw, q_kw))
        q0, q1 = float(q0), float(q1)
        if not (math.isfinite(q0) and math.isfinite(q1) and q0 >= 0 and q1 >= 0):
            raise ValueError(f"DetectorBank.advance: field 'q_kw' must be an HRR >= 0 (kW), got {q_kw!r}")
        n = len(self)
        empty = np.zeros(n)
        use_gas = gas_override is not None
        rise, u = empty, empty
        if gas_override is not None:
            rise = np.ascontiguousarray(np.broadcast_to(np.asarray(gas_override[0], float), (n,)))
            u = np.ascontiguousarray(np.broadcast_to(np.asarray(gas_override[1], float), (n,)))
            if not (np.all(np.isfinite(rise)) and np.all(np.isfinite(u) & (u >= 0))):
                raise ValueError("DetectorBank.advance: field 'gas_override' must be (rise_k, u_m_s) "
                                 "with finite rises and velocities >= 0")
        use_soot = soot_kg_m3 is not None
        s0 = s1 = empty
        if soot_kg_m3 is not None:
            if isinstance(soot_kg_m3, tuple):
                s0 = self._soot(soot_kg_m3[0], "soot_kg_m3", (n,))
                s1 = self._soot(soot_kg_m3[1], "soot_kg_m3", (n,))
            else:
                s0 = s1 = self._soot(soot_kg_m3, "soot_kg_m3", (n,))
        before = self.activated
        _k.advance_step(float(t), float(dt), q0, q1, self.kind, self.rti, self.thr_c, self.h_m, self.r_m,
                        self.ambient_c, self.td_c, self.activation_s, use_gas, rise, u,
                        use_soot, s0, s1, self.smoke_obscuration_per_m, SOOT_MASS_EXTINCTION_M2_KG)
        self.t = float(t) + float(dt)
        return np.flatnonzero(self.activated & ~before)

    def simulate(self, t_s: Sequence[float] | np.ndarray, q_kw: Sequence[float] | np.ndarray, *,
                 ambient_c: float = 20.0, soot_kg_m3: np.ndarray | None = None) -> np.ndarray:
        """Activation times (s; NaN if never) for an HRR history ``q_kw`` (kW) sampled at the
        increasing times ``t_s`` (s), linear between samples; resets the bank first (elements at
        ``ambient_c`` at ``t_s[0]``). ``soot_kg_m3``: optional soot density at the detectors,
        shape [nt] or [nt, n] (kg/m³), switching smoke detectors to the obscuration criterion."""
        t = np.ascontiguousarray(t_s, dtype=float)
        q = np.ascontiguousarray(q_kw, dtype=float)
        if t.ndim != 1 or t.shape[0] < 2:
            raise ValueError(f"DetectorBank.simulate: field 't_s' must be a 1-D series of >= 2 times, got shape {t.shape}")
        if q.shape != t.shape:
            raise ValueError(f"DetectorBank.simulate: field 'q_kw' has shape {q.shape}, expected {t.shape} like 't_s'")
        if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)):
            raise ValueError("DetectorBank.simulate: field 't_s' must be finite and strictly increasing (s)")
        if not (np.all(np.isfinite(q)) and np.all(q >= 0)):
            bad = np.flatnonzero(~(np.isfinite(q) & (q >= 0)))[:3]
            raise ValueError(f"DetectorBank.simulate: field 'q_kw' must be HRRs >= 0 (kW); bad at samples {bad.tolist()}")
        self.reset(ambient_c=ambient_c, t0_s=float(t[0]))
        n = len(self)
        use_soot = soot_kg_m3 is not None
        if soot_kg_m3 is not None:
            s = np.asarray(soot_kg_m3, dtype=float)
            soot = self._soot(s[:, None] if s.ndim == 1 else s, "soot_kg_m3", (t.shape[0], n))
        else:
            soot = np.zeros((1, n))
        _k.run_series(t, q, self.kind, self.rti, self.thr_c, self.h_m, self.r_m, self.ambient_c,
                      self.td_c, self.activation_s, use_soot, soot, self.smoke_obscuration_per_m,
                      SOOT_MASS_EXTINCTION_M2_KG)
        self.t = float(t[-1])
        return self.activation_s.copy()
