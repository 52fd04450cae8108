"""A stochastic model of the incidents a residential estate's security must detect and answer.

What: a stream of incidents over ``days`` days for a :class:`geometry.site.Site` -- thefts,
intrusions, falls of elderly people, objects thrown from high-rises and hazards reported by
residents -- each with a time, a place (a node of the navigation graph, a point, a level, a
storey) and, for the two incidents with a person to catch (theft, intrusion), a *track*: the
subject's position over time as they walk from where they got in (a gate they tailgated or a
breach point on the perimeter wall) to their target along the navigation graph, stay there for
the act, and walk back out.

Why: the detection-and-response simulation (:mod:`agents.security`) runs camera, patrol and
dispatch models against this stream; using the *same* stream (same seed) for two camera plans
makes their difference the effect of the cameras alone (common random numbers).

Model
-----
* **Times**: per incident kind a non-homogeneous Poisson process whose rate follows an hour-of-day
  profile, ``lambda(t) = rate_per_day * profile[hour(t)] / sum(profile)`` per hour, sampled by
  thinning (Lewis & Shedler 1979, "Simulation of nonhomogeneous Poisson processes by thinning",
  Naval Research Logistics Quarterly 26:403-413): candidates from a homogeneous process at the
  peak rate, each kept with probability ``profile[hour] / max(profile)``. The expected count per
  day is ``rate_per_day``.
* **Rates** (per day, for the domain's typical community of 8,500 residents, scaled linearly to the
  site's residents = households x 2.83, :data:`geometry.sample.SAMPLE_RESIDENTS_PER_HOUSEHOLD`;
  x 1.18 for an old estate, domain.md: "older estates have ~18% more incidents than new ones"):

  ================ ========= ================================================================
  kind             per day   source
  ================ ========= ================================================================
  theft            0.08      ASSUMPTION (domain.md gives no absolute rate; theft is residents'
                             top worry, 68%): ~29 a year
  intrusion        0.03      ASSUMPTION (~11 a year; strangers over the perimeter wall at night,
                             domain.md practice 1)
  fall             0.13      8,500 residents x 18.7% aged 60+ (domain.md) x 0.30 falls per older
                             person-year (WHO 2007, *Global report on falls prevention in older
                             age*: 28-35% of people 65+ fall each year) x 0.10 ASSUMED share
                             that needs the estate's responders, / 365
  thrown_object    0.01      ASSUMPTION (~4 a year; 45% of residents worry, domain.md)
  hazard           0.30      ASSUMPTION (~110 a year: clutter in stairwells, blocked fire lanes;
                             grid workers and residents report them, domain.md practice 3)
  ================ ========= ================================================================

* **Hours** (:data:`DEFAULT_HOUR_PROFILES`, all ASSUMPTIONS): intrusions mostly at night, thefts
  in the evening and night, falls morning and evening (getting up, bathing), thrown objects and
  hazard reports in waking hours.
* **Places** (risk weights, hot spots by place and hour; ASSUMPTIONS following domain.md
  practices 1 and 6): thefts at the e-bike charging points (battery theft; x3 at night), the
  car parks (x2 at night) and building entrances (bikes at the doors; x0.5 at night), the thief
  entering through a gate (tailgating, logged by it); intrusions over the perimeter wall at a
  breach point drawn along it with weight growing with the distance from the nearest gate (up
  to ``breach_gate_clearance_m``: intruders avoid the guarded gates), heading for a residential
  entrance (burglary, weight 2), a charging point or a car park (1 each); falls in a flat
  (``fall_indoor_share`` = 0.8, ASSUMPTION; WHO 2007 reports most falls of older people happen
  at home), flats of elderly people living alone (those with an emergency button or wristband)
  weighted ``fall_alone_weight`` = 3, else on an outdoor path; thrown objects from a residential
  building weighted by its height, from a storey >= ``thrown_min_storey`` (3) drawn uniformly,
  landing 2-8 m out from its long south or north face; hazards on a stair landing of a
  residential building (stairwell clutter) or on an outdoor path (25%, ASSUMPTION).
* **Tracks**: the subject walks at ``walk_speed_m_s`` (1.34 m/s, Weidmann 1993's free walking
  speed) from the entry point straight to the nearest outdoor graph node, along the shortest
  outdoor path (lengths of :func:`geometry.navgraph.build_nav_graph`) to the node nearest the
  target, straight to the target point, stays ``dwell_s`` (theft 5 min, intrusion 10 min;
  ASSUMPTIONS) and walks back the same way to the entry.

Randomness: one ``numpy.random.SeedSequence`` (``seed``), a named stream per kind
(:func:`twin.seeding.stream`), so adding a kind or changing one rate leaves the other kinds'
incidents unchanged. Same site, settings and seed give the same stream.
Units: s (time from the start of day 0, 00:00), m, m/s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Point, Polygon

from geometry.navgraph import build_nav_graph
from geometry.sample import SAMPLE_RESIDENTS_PER_HOUSEHOLD
from geometry.site import DeviceKind, Site
from twin.seeding import root_sequence, stream

__all__ = [
    "DEFAULT_HOUR_PROFILES",
    "DEFAULT_RATES_PER_DAY",
    "INCIDENT_KINDS",
    "SUBJECT_KINDS",
    "IncidentPlaces",
    "IncidentSettings",
    "IncidentSettingsError",
    "IncidentStream",
    "Track",
    "generate_incidents",
    "incident_places",
    "nhpp_times",
    "with_rates",
]

INCIDENT_KINDS = ("theft", "intrusion", "fall", "thrown_object", "hazard")
#: Kinds with a person who walks in and can be intercepted.
SUBJECT_KINDS = ("theft", "intrusion")
DAY_S = 86_400.0

#: Rates per day for the reference community (module docstring: sources and assumptions).
DEFAULT_RATES_PER_DAY: dict[str, float] = {
    "theft": 0.08,
    "intrusion": 0.03,
    "fall": round(8500 * 0.187 * 0.30 * 0.10 / 365.0, 4),  # 0.1307
    "thrown_object": 0.01,
    "hazard": 0.30,
}

#: Relative rate by hour of day 0..23 (ASSUMPTIONS, module docstring).
DEFAULT_HOUR_PROFILES: dict[str, tuple[float, ...]] = {
    #                 0    1    2    3    4    5    6    7    8    9    10   11   12   13   14   15   16   17   18   19   20   21   22   23
    "theft":        (3.0, 3.0, 3.0, 2.5, 2.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0),
    "intrusion":    (4.0, 4.0, 4.0, 4.0, 3.0, 1.5, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 3.5, 4.0),
    "fall":         (0.3, 0.3, 0.3, 0.3, 0.5, 1.0, 2.0, 2.0, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 1.5, 1.0, 0.5, 0.3),
    "thrown_object": (0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.5, 1.0, 1.0, 1.0, 1.0, 1.5, 1.5, 1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 1.5, 1.0, 0.3),
    "hazard":       (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.5, 1.5, 2.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.5, 1.0, 0.5, 0.3, 0.2, 0.0, 0.0),
}

#: Theft hot spots: (day weight, night weight) per place class (ASSUMPTIONS, module docstring).
DEFAULT_THEFT_PLACES: dict[str, tuple[float, float]] = {
    "charging": (1.0, 3.0), "parking": (1.0, 2.0), "entrance": (1.0, 0.5)}
#: Intrusion targets: (day weight, night weight) per place class (ASSUMPTIONS).
DEFAULT_INTRUSION_TARGETS: dict[str, tuple[float, float]] = {
    "entrance": (2.0, 2.0), "charging": (1.0, 1.0), "parking": (1.0, 1.0)}
PLACE_CLASSES = ("charging", "parking", "entrance")


class IncidentSettingsError(ValueError):
    """Bad incident settings; ``problems`` names each field and what was expected."""

    def __init__(self, problems: Sequence[str], *, source: str = "IncidentSettings") -> None:
        self.problems = list(problems)
        msg = self.problems[0] if len(self.problems) == 1 else (
            f"{len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems))
        super().__init__(f"{source}: {msg}")


def _finite(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class IncidentSettings:
    """Settings of the incident model (module docstring: defaults and their sources).

    ``rates_per_day`` per kind for ``reference_residents``; ``scale_to_site`` scales them by the
    site's residents (households x ``residents_per_household``); ``old_estate`` multiplies by
    ``old_estate_factor``. ``hour_profiles``: 24 relative rates per kind. ``night_hours``:
    ``(start, end)`` hours of the night (19 -> 6 means 19:00-05:59). Place weights are
    ``(day, night)`` pairs per place class."""

    rates_per_day: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES_PER_DAY))
    hour_profiles: Mapping[str, Sequence[float]] = field(default_factory=lambda: dict(DEFAULT_HOUR_PROFILES))
    reference_residents: float = 8500.0
    residents_per_household: float = SAMPLE_RESIDENTS_PER_HOUSEHOLD
    scale_to_site: bool = True
    old_estate: bool = False
    old_estate_factor: float = 1.18
    night_hours: tuple[int, int] = (19, 6)
    theft_places: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_THEFT_PLACES))
    intrusion_targets: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_INTRUSION_TARGETS))
    breach_gate_clearance_m: float = 60.0
    breach_spacing_m: float = 5.0
    fall_indoor_share: float = 0.8
    fall_alone_weight: float = 3.0
    hazard_indoor_share: float = 0.75
    thrown_min_storey: int = 3
    walk_speed_m_s: float = 1.34
    dwell_s: Mapping[str, float] = field(default_factory=lambda: {"theft": 300.0, "intrusion": 600.0})

    def problems(self) -> list[str]:
        """Every problem with these settings (empty when they are valid)."""
        out: list[str] = []
        rates = self.rates_per_day if isinstance(self.rates_per_day, Mapping) else {}
        if not isinstance(self.rates_per_day, Mapping):
            out.append(f"field 'rates_per_day' must map incident kinds to rates per day, got {self.rates_per_day!r}")
        for k, v in rates.items():
            if k not in INCIDENT_KINDS:
                out.append(f"field 'rates_per_day': unknown incident kind {k!r}; expected one of "
                           f"{', '.join(INCIDENT_KINDS)}")
            elif not _finite(v) or v < 0:
                out.append(f"field 'rates_per_day[{k!r}]' must be a rate >= 0 per day, got {v!r}")
        profiles = self.hour_profiles if isinstance(self.hour_profiles, Mapping) else {}
        if not isinstance(self.hour_profiles, Mapping):
            out.append("field 'hour_profiles' must map incident kinds to 24 hourly weights")
        for k in INCIDENT_KINDS:
            r = rates.get(k, 0.0)
            if not _finite(r) or r <= 0:
                continue
            prof = profiles.get(k)
            if prof is None:
                out.append(f"field 'hour_profiles' has no profile for kind {k!r} (rate > 0)")
                continue
            ok = isinstance(prof, (list, tuple, np.ndarray)) and all(_finite(x) for x in prof)
            a = np.asarray(prof, dtype=float) if ok else None
            if a is None or a.shape != (24,):
                out.append(f"field 'hour_profiles[{k!r}]' must be 24 finite numbers (hours 0-23), got {prof!r}")
            elif (a < 0).any() or a.sum() <= 0:
                out.append(f"field 'hour_profiles[{k!r}]' must be >= 0 with a positive sum, got {list(a)}")
        for name in ("reference_residents", "residents_per_household", "old_estate_factor", "walk_speed_m_s",
                     "breach_spacing_m"):
            v = getattr(self, name)
            if not _finite(v) or v <= 0:
                out.append(f"field {name!r} must be a positive number, got {v!r}")
        for name in ("breach_gate_clearance_m", "fall_alone_weight"):
            v = getattr(self, name)
            if not _finite(v) or v < 0:
                out.append(f"field {name!r} must be a number >= 0, got {v!r}")
        for name in ("fall_indoor_share", "hazard_indoor_share"):
            v = getattr(self, name)
            if not _finite(v) or not 0 <= v <= 1:
                out.append(f"field {name!r} must be a share in [0, 1], got {v!r}")
        nh = self.night_hours
        if (not isinstance(nh, (tuple, list)) or len(nh) != 2
                or not all(isinstance(h, (int, np.integer)) and 0 <= h <= 23 for h in nh)):
            out.append(f"field 'night_hours' must be (start_hour, end_hour) with hours 0..23, got {nh!r}")
        if not isinstance(self.thrown_min_storey, (int, np.integer)) or self.thrown_min_storey < 0:
            out.append(f"field 'thrown_min_storey' must be an integer >= 0, got {self.thrown_min_storey!r}")
        for name in ("theft_places", "intrusion_targets"):
            m = getattr(self, name)
            if not isinstance(m, Mapping) or not m:
                out.append(f"field {name!r} must map place classes to (day, night) weights")
                continue
            for k, w in m.items():
                if k not in PLACE_CLASSES:
                    out.append(f"field {name!r}: unknown place class {k!r}; expected one of {', '.join(PLACE_CLASSES)}")
                elif (not isinstance(w, (tuple, list)) or len(w) != 2 or not all(_finite(x) and x >= 0 for x in w)):
                    out.append(f"field '{name}[{k!r}]' must be a (day, night) pair of weights >= 0, got {w!r}")
        for k in SUBJECT_KINDS:
            v = self.dwell_s.get(k) if isinstance(self.dwell_s, Mapping) else None
            if not _finite(v) or v < 0:  # type: ignore[operator]
                out.append(f"field 'dwell_s[{k!r}]' must be a duration >= 0 s, got {v!r}")
        return out

    def validate(self) -> "IncidentSettings":
        p = self.problems()
        if p:
            raise IncidentSettingsError(p)
        return self

    def is_night(self, hour: NDArray[np.int64] | int) -> NDArray[np.bool_]:
        """Whether each hour of day (0..23) is in the night (``night_hours``)."""
        h = np.asarray(hour)
        a, b = self.night_hours
        return (h >= a) | (h < b) if a > b else (h >= a) & (h < b)


def nhpp_times(rng: np.random.Generator, *, rate_per_day: float, profile: Sequence[float],
               days: float) -> NDArray[np.float64]:
    """Event times (s, sorted) of a non-homogeneous Poisson process over ``days`` days whose
    rate per hour of day is ``rate_per_day * profile[h] / sum(profile)`` (thinning, Lewis &
    Shedler 1979)."""
    prof = np.asarray(profile, dtype=float)
    if rate_per_day <= 0 or days <= 0:
        return np.zeros(0)
    peak = rate_per_day * prof.max() / prof.sum() * 24.0  # per day, at the peak hour's rate
    n = rng.poisson(peak * days)
    t = np.sort(rng.uniform(0.0, days * DAY_S, n))
    hour = ((t % DAY_S) // 3600.0).astype(np.int64)
    keep = rng.uniform(size=n) * prof.max() < prof[hour]
    return t[keep]


# ------------------------------------------------------------------------------ places
@dataclass(frozen=True)
class IncidentPlaces:
    """Where incidents happen on a site: the navigation ``graph``; the outdoor subgraph as CSR
    (``out_nodes``, ``out_xy``, lengths in m); place candidates per class (``places[cls]`` =
    list of (id, x, y, outdoor node, weight)); breach points on the perimeter with weights;
    gates; residential units with weights; residential landings; high-rise faces."""

    graph: nx.Graph
    out_nodes: list[str]
    out_index: dict[str, int]
    out_xy: NDArray[np.float64]
    out_csr: csr_matrix
    places: dict[str, list[tuple[str, float, float, int, float]]]
    breach_xy: NDArray[np.float64]
    breach_weight: NDArray[np.float64]
    gate_ids: list[str]
    units: list[str]
    unit_weight: NDArray[np.float64]
    landings: list[str]
    residential: list[str]
    residential_weight: NDArray[np.float64]

    def nearest_out(self, x: float, y: float) -> int:
        d = np.hypot(self.out_xy[:, 0] - x, self.out_xy[:, 1] - y)
        return int(np.argmin(d))


def _outdoor(graph: nx.Graph) -> tuple[list[str], NDArray[np.float64], csr_matrix]:
    nodes = [n for n, d in graph.nodes(data=True)
             if d.get("building") is None or (d.get("kind") == "exit" and d.get("level", 0) == 0)]
    idx = {n: i for i, n in enumerate(nodes)}
    rows, cols, w = [], [], []
    for u, v, d in graph.subgraph(nodes).edges(data=True):
        rows += [idx[u], idx[v]]
        cols += [idx[v], idx[u]]
        w += [float(d["length_m"])] * 2
    n = len(nodes)
    csr = csr_matrix((w, (rows, cols)), shape=(n, n))
    xy = np.array([[graph.nodes[v]["x"], graph.nodes[v]["y"]] for v in nodes], float).reshape(-1, 2)
    return nodes, xy, csr


def incident_places(site: Site, *, graph: nx.Graph | None = None,
                    settings: IncidentSettings | None = None) -> IncidentPlaces:
    """The place catalogue of ``site`` (module docstring, "Places")."""
    st = (settings or IncidentSettings()).validate()
    g = graph if graph is not None else build_nav_graph(site)
    nodes, xy, csr = _outdoor(g)
    if not nodes:
        from geometry.site import SiteError
        raise SiteError(["navigation graph: no outdoor nodes (ways, gates); incidents need the outdoor network"],
                        source=site.source or site.name)
    idx = {n: i for i, n in enumerate(nodes)}

    def near(x: float, y: float) -> int:
        return int(np.argmin(np.hypot(xy[:, 0] - x, xy[:, 1] - y)))

    places: dict[str, list[tuple[str, float, float, int, float]]] = {c: [] for c in PLACE_CLASSES}
    for o in site.open_spaces:
        if o.kind in ("charging", "parking"):
            p = o.polygon.representative_point()
            places[o.kind].append((o.id, p.x, p.y, near(p.x, p.y), float(o.polygon.area)))
    for b in site.buildings:
        if not b.use.residential:
            continue
        for e in b.exits:
            if e.level == 0 and e.id in idx:
                places["entrance"].append((e.id, e.position.x, e.position.y, idx[e.id], 1.0))
    # breach points: 1 m inside the wall, weighted by clearance from the gates
    inner = site.boundary.buffer(-1.0)
    ring = inner.exterior if isinstance(inner, Polygon) else site.boundary.exterior
    n_b = max(int(ring.length // st.breach_spacing_m), 4)
    pts = [ring.interpolate((k + 0.5) * ring.length / n_b) for k in range(n_b)]
    bxy = np.array([[p.x, p.y] for p in pts])
    if site.gates:
        gxy = np.array([[gt.position.x, gt.position.y] for gt in site.gates])
        dg = np.min(np.hypot(bxy[:, None, 0] - gxy[None, :, 0], bxy[:, None, 1] - gxy[None, :, 1]), axis=1)
        bw = np.minimum(dg, st.breach_gate_clearance_m) if st.breach_gate_clearance_m > 0 else np.ones(n_b)
    else:
        bw = np.ones(n_b)
    bw = np.maximum(bw, 1e-6)
    units: list[str] = []
    uw: list[float] = []
    alone = {d.unit for d in site.devices
             if d.kind in (DeviceKind.EMERGENCY_BUTTON, DeviceKind.WRISTBAND) and d.unit}
    landings: list[str] = []
    res: list[str] = []
    resw: list[float] = []
    for b in site.buildings:
        if not b.use.residential:
            continue
        res.append(b.id)
        resw.append(b.height_m if b.storeys >= max(st.thrown_min_storey, 1) else 0.0)
        for lv in range(b.storeys):
            for u in b.unit_ids(lv):
                if u in g:
                    units.append(u)
                    uw.append(st.fall_alone_weight if u in alone else 1.0)
    landings = [n for n, d in g.nodes(data=True) if d.get("kind") == "landing" and d.get("building") in set(res)]
    return IncidentPlaces(graph=g, out_nodes=nodes, out_index=idx, out_xy=xy, out_csr=csr, places=places,
                          breach_xy=bxy, breach_weight=bw, gate_ids=[gt.id for gt in site.gates if gt.id in idx],
                          units=units, unit_weight=np.asarray(uw, float), landings=landings, residential=res,
                          residential_weight=np.asarray(resw, float))


# ------------------------------------------------------------------------------ tracks
@dataclass(frozen=True)
class Track:
    """A subject's walk: knot times ``t`` (s, ascending) and positions ``xy`` (m), linear in
    between; ``nodes`` / ``node_t`` the outdoor graph nodes passed on the way in and when;
    ``t_target`` arrival at the target, ``t_leave`` end of the act, ``t_end`` back at the
    entry (gone)."""

    t: NDArray[np.float64]
    xy: NDArray[np.float64]
    nodes: tuple[str, ...]
    node_t: NDArray[np.float64]
    t_target: float
    t_leave: float
    t_end: float

    def position(self, times: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """(n, 2) positions at ``times`` (clamped to the track)."""
        tt = np.atleast_1d(np.asarray(times, float))
        return np.c_[np.interp(tt, self.t, self.xy[:, 0]), np.interp(tt, self.t, self.xy[:, 1])]


def _track(pl: IncidentPlaces, t0: float, entry_xy: tuple[float, float], entry_node: int,
           target_xy: tuple[float, float], target_node: int, speed: float, dwell: float) -> Track:
    dist, pred = dijkstra(pl.out_csr, directed=False, indices=entry_node, return_predecessors=True)
    if not math.isfinite(dist[target_node]):
        raise ValueError(f"no outdoor path from {pl.out_nodes[entry_node]} to {pl.out_nodes[target_node]}")
    path = [target_node]
    while path[-1] != entry_node:
        path.append(int(pred[path[-1]]))
    path.reverse()
    pts = [entry_xy] + [tuple(pl.out_xy[i]) for i in path] + [target_xy]
    p = np.asarray(pts, float)
    seg = np.hypot(*np.diff(p, axis=0).T)
    cum = np.r_[0.0, np.cumsum(seg)]
    t_in = t0 + cum / speed
    t_target = float(t_in[-1])
    t_leave = t_target + dwell
    t_out = t_leave + (cum[-1] - cum[::-1]) / speed
    t = np.r_[t_in, t_out]
    xy = np.r_[p, p[::-1]]
    return Track(t=t, xy=xy, nodes=tuple(pl.out_nodes[i] for i in path), node_t=t_in[1:-1].copy(),
                 t_target=t_target, t_leave=t_leave, t_end=float(t_out[-1]))


# ------------------------------------------------------------------------------ stream
@dataclass(frozen=True)
class IncidentStream:
    """The incidents of a run: ``table`` (one row per incident, sorted by time; columns in
    :func:`generate_incidents`), ``tracks`` (incident id -> :class:`Track` for thefts and
    intrusions), the ``places`` catalogue, ``days``, the ``seed`` entropy and the settings."""

    table: pd.DataFrame
    tracks: dict[int, Track]
    places: IncidentPlaces
    days: float
    seed: int
    settings: IncidentSettings

    def __len__(self) -> int:
        return len(self.table)


def _pick(rng: np.random.Generator, w: NDArray[np.float64]) -> int:
    s = w.sum()
    if s <= 0:
        raise ValueError("no place with a positive risk weight")
    return int(rng.choice(w.size, p=w / s))


def generate_incidents(
    site: Site,
    *,
    days: float,
    seed: int | np.random.SeedSequence = 0,
    settings: IncidentSettings | None = None,
    graph: nx.Graph | None = None,
    places: IncidentPlaces | None = None,
) -> IncidentStream:
    """Draw the incidents of ``days`` days on ``site`` (module docstring).

    ``table`` columns: ``id`` (0..n-1 in time order), ``kind``, ``t_s`` (s from day 0 00:00),
    ``day``, ``hour``, ``night``, ``place`` (open space, exit, unit, landing, building or
    ``outdoor``), ``place_class`` (charging / parking / entrance / perimeter / flat / path /
    facade / stairwell), ``node`` (navigation-graph node where a responder goes), ``x``, ``y``
    (m), ``level``, ``storey`` (thrown objects), ``indoor``, ``entry`` (gate id or ``breach``),
    ``entry_x``, ``entry_y``, ``t_target_s``, ``t_leave_s``, ``t_end_s`` (subjects)."""
    if not _finite(days) or days <= 0:
        raise ValueError(f"days must be a positive number of days, got {days!r}")
    st = (settings or IncidentSettings()).validate()
    root = root_sequence(seed)
    pl = places if places is not None else incident_places(site, graph=graph, settings=st)
    g = pl.graph
    scale = 1.0
    if st.scale_to_site:
        scale = site.households * st.residents_per_household / st.reference_residents
    if st.old_estate:
        scale *= st.old_estate_factor
    rows: list[dict[str, object]] = []
    tracks: dict[int, Track] = {}
    pending_tracks: list[tuple[int, Track]] = []
    for kind in INCIDENT_KINDS:
        rate = float(st.rates_per_day.get(kind, 0.0)) * scale
        if rate <= 0:
            continue
        rng = stream(root, f"incidents:{kind}")
        times = nhpp_times(rng, rate_per_day=rate, profile=st.hour_profiles[kind], days=float(days))
        for t in times:
            hour = int((t % DAY_S) // 3600)
            night = bool(st.is_night(hour))
            row: dict[str, object] = dict(kind=kind, t_s=float(t), day=int(t // DAY_S), hour=hour, night=night,
                                          level=0, storey=-1, indoor=False, entry="", entry_x=np.nan,
                                          entry_y=np.nan, t_target_s=np.nan, t_leave_s=np.nan, t_end_s=np.nan)
            track = None
            if kind in SUBJECT_KINDS:
                table = st.theft_places if kind == "theft" else st.intrusion_targets
                cand = [(c, item) for c in PLACE_CLASSES if c in table for item in pl.places[c]]
                w = np.array([table[c][1 if night else 0] * item[4] /
                              max(sum(i[4] for i in pl.places[c]), 1e-12) for c, item in cand])
                if not cand or w.sum() <= 0:
                    continue
                c, (pid, px, py, pnode, _) = cand[_pick(rng, w)]
                if kind == "theft" and pl.gate_ids:
                    gid = pl.gate_ids[int(rng.integers(len(pl.gate_ids)))]
                    gi = pl.out_index[gid]
                    ex, ey = float(pl.out_xy[gi, 0]), float(pl.out_xy[gi, 1])
                    entry, enode = gid, gi
                else:
                    b = _pick(rng, pl.breach_weight)
                    ex, ey = float(pl.breach_xy[b, 0]), float(pl.breach_xy[b, 1])
                    entry, enode = "breach", pl.nearest_out(ex, ey)
                track = _track(pl, float(t), (ex, ey), enode, (px, py), pnode, st.walk_speed_m_s,
                               float(st.dwell_s[kind]))
                row.update(place=pid, place_class=c, node=pl.out_nodes[pnode], x=px, y=py, entry=entry,
                           entry_x=ex, entry_y=ey, t_target_s=track.t_target, t_leave_s=track.t_leave,
                           t_end_s=track.t_end)
            elif kind == "fall":
                if pl.units and rng.uniform() < st.fall_indoor_share:
                    u = pl.units[_pick(rng, pl.unit_weight)]
                    d = g.nodes[u]
                    row.update(place=u, place_class="flat", node=u, x=d["x"], y=d["y"], level=d["level"],
                               indoor=True)
                else:
                    x, y, node = _path_point(rng, pl)
                    row.update(place="outdoor", place_class="path", node=node, x=x, y=y)
            elif kind == "thrown_object":
                if not pl.residential or pl.residential_weight.sum() <= 0:
                    continue
                bid = pl.residential[_pick(rng, pl.residential_weight)]
                b = site.building(bid)
                storey = int(rng.integers(min(st.thrown_min_storey, b.storeys - 1), b.storeys))
                x, y, node = _facade_point(rng, b, pl, g)
                row.update(place=bid, place_class="facade", node=node, x=x, y=y, storey=storey)
            else:  # hazard
                if pl.landings and rng.uniform() < st.hazard_indoor_share:
                    n = pl.landings[int(rng.integers(len(pl.landings)))]
                    d = g.nodes[n]
                    row.update(place=n, place_class="stairwell", node=n, x=d["x"], y=d["y"], level=d["level"],
                               indoor=True)
                else:
                    x, y, node = _path_point(rng, pl)
                    row.update(place="outdoor", place_class="path", node=node, x=x, y=y)
            rows.append(row)
            if track is not None:
                pending_tracks.append((len(rows) - 1, track))
    cols = ["kind", "t_s", "day", "hour", "night", "place", "place_class", "node", "x", "y", "level", "storey",
            "indoor", "entry", "entry_x", "entry_y", "t_target_s", "t_leave_s", "t_end_s"]
    df = pd.DataFrame(rows, columns=cols)
    order = np.argsort(df["t_s"].to_numpy(), kind="stable")
    new_id = np.empty(len(df), np.int64)
    new_id[order] = np.arange(len(df))
    for i, tr in pending_tracks:
        tracks[int(new_id[i])] = tr
    df = df.iloc[order].reset_index(drop=True)
    df.insert(0, "id", np.arange(len(df), dtype=np.int64))
    return IncidentStream(table=df, tracks=tracks, places=pl, days=float(days),
                          seed=int(root.entropy) if isinstance(root.entropy, int) else 0, settings=st)


def _path_point(rng: np.random.Generator, pl: IncidentPlaces) -> tuple[float, float, str]:
    """A point on an outdoor path edge drawn by length; the nearer end node."""
    coo = pl.out_csr.tocoo()
    m = coo.row < coo.col
    r, c, w = coo.row[m], coo.col[m], coo.data[m]
    k = _pick(rng, w.astype(float))
    f = rng.uniform()
    a, b = pl.out_xy[r[k]], pl.out_xy[c[k]]
    x, y = a + f * (b - a)
    return float(x), float(y), pl.out_nodes[int(r[k] if f < 0.5 else c[k])]


def _facade_point(rng: np.random.Generator, b: object, pl: IncidentPlaces, g: nx.Graph) -> tuple[float, float, str]:
    """A landing point 2-8 m out from the south or north face of building ``b``; the node is
    the building's nearest ground exit."""
    x0, y0, x1, y1 = b.footprint.bounds  # type: ignore[attr-defined]
    x = float(rng.uniform(x0, x1))
    out = float(rng.uniform(2.0, 8.0))
    y = y1 + out if rng.uniform() < 0.5 else y0 - out
    exits = [e for e in b.exits if e.level == 0 and e.id in g]  # type: ignore[attr-defined]
    if exits:
        e = min(exits, key=lambda e: math.hypot(e.position.x - x, e.position.y - y))
        return x, y, e.id
    return x, y, pl.out_nodes[pl.nearest_out(x, y)]


def with_rates(settings: IncidentSettings, **rates: float) -> IncidentSettings:
    """A copy of ``settings`` with some kinds' rates per day replaced."""
    r = dict(settings.rates_per_day)
    r.update(rates)
    return replace(settings, rates_per_day=r)

