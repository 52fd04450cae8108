"""Detection and response: cameras, patrols, gates and a dispatcher against an incident stream,
as a SimPy simulation (processes and resources).

What: :func:`simulate_security` takes a site, its cameras (or another set), patrols and
responders, draws the incidents of :mod:`agents.incidents` for ``days`` days, and measures
what the security set-up achieves: the share of incidents detected, the time to detect, the
time to respond (p50 / p90 against the 15-minute target of domain.md), the intrusions and thefts
prevented (the subject intercepted before reaching the target), and the camera density and
coverage. :func:`compare_cameras` runs the same incident stream against two camera sets (common
random numbers) and reports what the second buys over the first.

Detection
---------
* **Cameras** (outdoor ones: no ``building``, or at level 0 outside the footprint -- the rule of
  :func:`optimizer.camera_sites.outdoor_cameras`). A subject's track is sampled every
  ``sample_dt_s``; :func:`geometry.viewshed.visibility` (occlusion-aware: range, field of view,
  2.5D line of sight through the buildings, target 1.5 m high) says which samples each camera
  sees. Each *sighting* (a run of consecutive visible samples of one camera) gives the camera's
  AI one chance: it flags the subject with probability ``ai_accuracy`` (0.95, domain.md practice
  1: "AI recognition accuracy >= 95%") x :func:`geometry.viewshed.detection_probability` at the
  sighting's closest distance (``distance_model``, default logistic) x the lighting factor
  (``night_factor`` = 0.7 at night, an ASSUMPTION: infra-red night images lose detail, and the
  domain quotes no night figure). The flag comes at the closest approach. An outdoor fall is a
  sighting of a still person (AI fall detection, same accuracy); a thrown object is flagged with
  ``warning_accuracy`` (0.90, domain.md: "automatic warnings (falling objects) accuracy >= 90%")
  when a camera sees where it lands; the storey is then located (domain: 0.5 m precision).
  Each chance draws its own uniform keyed by (incident, camera id, sighting), so adding a camera
  never changes another camera's draws: more cameras never detect less on the same stream.
* **Patrols**: guards walking their loop at ``patrol_speed_m_s`` (1.2 m/s, the pace of
  :mod:`optimizer.patrols`) see a subject within ``patrol_sight_m`` (20 m, ASSUMPTION) with a
  clear line of sight over the occlusion grid (eye 1.6 m; :mod:`agents._security_kernel`); each
  sighting is noticed with probability ``patrol_notice_p`` (0.5, ASSUMPTION) x the lighting
  factor. Patrol positions follow the loop by the clock (phase-shifted per guard); a guard called
  away is still taken as walking the loop for sightings (a simplification).
* **Gates** log every passage (``gate_logged``); a face-recognition gate flags a tailgating
  stranger with ``gate_flag_p['face']`` (0.3, ASSUMPTION).
* **Falls in a flat**: a wristband detects the fall with ``wristband_p`` (0.9, domain.md: automatic
  warnings >= 90%) after ``wristband_delay_s`` (60 s, ASSUMPTION); else an emergency button is
  pressed with ``button_p`` (0.5, ASSUMPTION) after ``button_delay_s`` (120 s); else, for a
  flat with such a device, the no-activity rule fires after 12 h (domain.md practice 8); else
  family or neighbours find the person after an exponential time, mean ``found_mean_s`` (6 h,
  ASSUMPTION). **Outdoor falls** not seen by a camera or patrol are reported by a passer-by after
  an exponential time, mean ``passerby_mean_s`` (10 min by day, 60 min by night, ASSUMPTIONS).
* **Thrown objects** not flagged by a camera are reported by a resident with ``resident_report_p``
  (0.5) after an exponential time, mean 10 min (ASSUMPTIONS). **Hazards** are reported by residents:
  detected at once.

Response
--------
A detection raises an alarm ``alarm_latency_s`` later (1 s: edge processing, domain.md "< 1 s local
latency") plus ``verify_s`` (30 s, ASSUMPTION: the operator confirms the alarm). A SimPy process
per incident asks the dispatcher; the dispatcher sends the nearest free responder of the right
role (guards for thefts, intrusions, falls and thrown objects; grid workers for hazards -- the
guards outside the grid workers' hours or if the site has none) who is on shift, each responder a ``simpy.Resource`` of capacity 1; when none is
free it waits for the next release or shift change. Travel time is the shortest path on the
navigation graph (:func:`geometry.navgraph.build_nav_graph`) at ``run_speed_m_s`` (2.5 m/s, a
jog, ASSUMPTION) on level ground and ``stair_speed_m_s`` (0.6 m/s, the fast end of Fruin's /
SFPE's stair ascent speeds, :data:`agents.demographics.STAIR_ASCENT_M_S`) on stairs (lifts are not
used: conservative), from the node of the responder's position (a patrolling guard's nearest
loop node). For a subject, the responder goes for the earliest node of the subject's remaining
route that they reach no later than the subject (**prevented** when that is before the subject
reaches the target; **caught** when they reach the target before the act ends); else to the
target. **Response time** = arrival - alarm. The responder stays ``on_scene_s`` (10 min,
ASSUMPTION) and walks back to their post at ``patrol_speed_m_s``, busy until back.

Default responders (:func:`default_responders`): one professional patrol per 500 residents
(domain.md practice 4) in three 8-hour shifts; per shift one guard stays at the main gate, the
rest walk a loop through the gates and the corners of the estate (phase-shifted); one grid
worker per grid, 08:00-18:00 (ASSUMPTION), at the grid's centre. Patrol loops may be given
instead (``patrols=``: node sequences such as :attr:`optimizer.patrols.PatrolPlan.paths`).

Coverage figures (:func:`camera_coverage`): cameras per 200 m² of public area (domain.md target
1) and the fractions of a 2 m grid over the public area, of the building entrances (1.5 m out),
of the gates (2 m in) and of the perimeter (1.5 m inside the wall every 5 m) seen by at least
one outdoor camera.

Units: s, m, m/s. Randomness: the incident stream uses :func:`agents.incidents.generate_incidents`
with ``seed``; detection and response draws use named streams of the same seed.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
import simpy
from numpy.random import PCG64, Generator, SeedSequence
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Polygon
from shapely.ops import unary_union

from agents._security_kernel import pair_sight
from agents.incidents import (
    DAY_S,
    SUBJECT_KINDS,
    IncidentSettings,
    IncidentStream,
    Track,
    generate_incidents,
    incident_places,
)
from geometry.site import Device, DeviceKind, Site, SiteError
from geometry.viewshed import DETECTION_MODELS, OcclusionGrid, PoseArray, detection_probability, occlusion_grid, visibility
from twin.seeding import root_sequence

__all__ = [
    "CameraComparison",
    "Responder",
    "SecurityResult",
    "SecuritySettings",
    "camera_coverage",
    "compare_cameras",
    "default_responders",
    "outdoor_camera_devices",
    "simulate_security",
]

DENSITY_AREA_M2 = 200.0  # domain.md practice 1: one camera per 200 m² of public area
_TAG = 0x73656375  # "secu": spawn-key word of this module's keyed draws


def _finite(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class SecuritySettings:
    """Detection and response settings (module docstring: sources and assumptions)."""

    ai_accuracy: float = 0.95
    warning_accuracy: float = 0.90
    night_factor: float = 0.7
    night_hours: tuple[int, int] = (19, 6)
    distance_model: str = "logistic"
    d50_fraction: float = 0.5
    sample_dt_s: float = 2.0
    target_height_m: float = 1.5
    cell_size_m: float = 0.5
    patrol_sight_m: float = 20.0
    patrol_eye_m: float = 1.6
    patrol_notice_p: float = 0.5
    patrol_speed_m_s: float = 1.2
    run_speed_m_s: float = 2.5
    stair_speed_m_s: float = 0.6
    gate_flag_p: Mapping[str, float] = field(default_factory=lambda: {"face": 0.3})
    wristband_p: float = 0.9
    wristband_delay_s: float = 60.0
    button_p: float = 0.5
    button_delay_s: float = 120.0
    no_activity_s: float = 12 * 3600.0
    found_mean_s: float = 6 * 3600.0
    passerby_mean_s: tuple[float, float] = (600.0, 3600.0)
    resident_report_p: float = 0.5
    resident_report_mean_s: float = 600.0
    alarm_latency_s: float = 1.0
    verify_s: float = 30.0
    on_scene_s: float = 600.0
    response_target_s: float = 900.0
    hazard_target_s: float = 7200.0

    def problems(self) -> list[str]:
        out: list[str] = []
        for name in ("ai_accuracy", "warning_accuracy", "night_factor", "patrol_notice_p", "wristband_p",
                     "button_p", "resident_report_p"):
            v = getattr(self, name)
            if not _finite(v) or not 0 <= v <= 1:
                out.append(f"field {name!r} must be a probability in [0, 1], got {v!r}")
        for name in ("sample_dt_s", "patrol_sight_m", "patrol_eye_m", "patrol_speed_m_s", "run_speed_m_s",
                     "stair_speed_m_s", "found_mean_s", "resident_report_mean_s", "response_target_s",
                     "hazard_target_s"):
            v = getattr(self, name)
            if not _finite(v) or v <= 0:
                out.append(f"field {name!r} must be a positive number, got {v!r}")
        for name in ("target_height_m", "wristband_delay_s", "button_delay_s", "no_activity_s",
                     "alarm_latency_s", "verify_s", "on_scene_s"):
            v = getattr(self, name)
            if not _finite(v) or v < 0:
                out.append(f"field {name!r} must be a number >= 0, got {v!r}")
        if self.distance_model not in DETECTION_MODELS:
            out.append(f"field 'distance_model' must be one of {', '.join(DETECTION_MODELS)}, got {self.distance_model!r}")
        if not _finite(self.d50_fraction) or not 0 < self.d50_fraction < 1:
            out.append(f"field 'd50_fraction' must lie in (0, 1), got {self.d50_fraction!r}")
        if not _finite(self.cell_size_m) or not 0.5 <= self.cell_size_m <= 1.0:
            out.append(f"field 'cell_size_m' must be in [0.5, 1.0] m, got {self.cell_size_m!r}")
        pm = self.passerby_mean_s
        if not isinstance(pm, (tuple, list)) or len(pm) != 2 or not all(_finite(x) and x > 0 for x in pm):
            out.append(f"field 'passerby_mean_s' must be (day, night) positive means in s, got {pm!r}")
        nh = self.night_hours
        if (not isinstance(nh, (tuple, list)) or len(nh) != 2
                or not all(isinstance(h, (int, np.integer)) and 0 <= h <= 23 for h in nh)):
            out.append(f"field 'night_hours' must be (start_hour, end_hour) with hours 0..23, got {nh!r}")
        if not isinstance(self.gate_flag_p, Mapping) or not all(_finite(v) and 0 <= v <= 1 for v in self.gate_flag_p.values()):
            out.append(f"field 'gate_flag_p' must map gate access types to probabilities in [0, 1], got {self.gate_flag_p!r}")
        return out

    def validate(self) -> "SecuritySettings":
        p = self.problems()
        if p:
            msg = p[0] if len(p) == 1 else f"{len(p)} problems:\n  - " + "\n  - ".join(p)
            raise ValueError(f"SecuritySettings: {msg}")
        return self

    def light(self, t: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Lighting factor at times ``t`` (s): ``night_factor`` in the night hours, else 1."""
        h = (np.asarray(t, float) % DAY_S) // 3600.0
        a, b = self.night_hours
        night = (h >= a) | (h < b) if a > b else (h >= a) & (h < b)
        return np.where(night, self.night_factor, 1.0)


@dataclass(frozen=True)
class Responder:
    """A guard or grid worker: ``role`` (``guard`` / ``grid_worker``), ``post`` (a navigation
    graph node), ``shifts`` (``(start_h, end_h)`` hours of day; end < start wraps midnight; end
    24 = midnight), and ``patrol``: a loop of outdoor graph nodes walked on shift (empty: stays at
    the post)."""

    id: str
    role: str
    post: str
    shifts: tuple[tuple[float, float], ...]
    patrol: tuple[str, ...] = ()
    phase: float = 0.0

    def on_shift(self, t: float) -> bool:
        h = (t % DAY_S) / 3600.0
        for a, b in self.shifts:
            if (a <= h < b) if a < b else (h >= a or h < b):
                return True
        return False

    def next_change(self, t: float) -> float:
        """The next shift start or end after ``t`` (s)."""
        day = math.floor(t / DAY_S) * DAY_S
        cands = [day + d * DAY_S + h * 3600.0 for d in (0, 1) for s in self.shifts for h in s]
        later = [c for c in cands if c > t + 1e-9]
        return min(later) if later else t + DAY_S


# --------------------------------------------------------------------------- cameras
def outdoor_camera_devices(site: Site, cameras: Sequence[Device]) -> list[Device]:
    """The cameras of ``cameras`` that look at open ground (no ``building``, or at level 0 of an
    above-ground building but outside its footprint)."""
    out = []
    for d in cameras:
        if d.kind != DeviceKind.CAMERA or d.camera is None:
            raise SiteError([f"device {d.id}: expected a camera with optics (field 'camera')"],
                            source=site.source or None)
        if d.building is None:
            out.append(d)
            continue
        try:
            b = site.building(d.building)
        except KeyError:
            raise SiteError([f"device {d.id}: field 'building' refers to building {d.building!r}, which does not "
                             "exist"], source=site.source or None) from None
        if d.level in (None, 0) and b.storeys > 0 and not b.footprint.contains(d.position):
            out.append(d)
    return out


def _poses(devs: Sequence[Device]) -> PoseArray:
    if not devs:
        z = np.zeros(0)
        return PoseArray(z, z, z, z, z, z)
    return PoseArray.from_devices(list(devs))


def camera_coverage(site: Site, cameras: Sequence[Device], *, grid: OcclusionGrid | None = None,
                    spacing_m: float = 2.0, target_height_m: float = 1.5) -> dict[str, float]:
    """Camera count, density per 200 m² of public area and coverage fractions (module
    docstring) of ``cameras`` on ``site``."""
    grid = grid if grid is not None else occlusion_grid(site)
    outdoor = outdoor_camera_devices(site, cameras)
    blds = [b.footprint for b in site.buildings if b.storeys > 0]
    public = site.boundary.difference(unary_union(blds)) if blds else site.boundary
    x0, y0, x1, y1 = public.bounds
    X, Y = np.meshgrid(np.arange(x0 + spacing_m / 2, x1, spacing_m), np.arange(y0 + spacing_m / 2, y1, spacing_m))
    X, Y = X.ravel(), Y.ravel()
    inside = shapely.contains_xy(public, X, Y)
    pub = np.c_[X[inside], Y[inside]]
    ent = []
    for b in site.buildings:
        if b.storeys <= 0:
            continue
        for e in b.exits:
            if e.level != 0:
                continue
            q = b.footprint.exterior.interpolate(b.footprint.exterior.project(e.position))
            v = np.array([e.position.x - q.x, e.position.y - q.y])
            if np.hypot(*v) < 1e-6:
                c = b.footprint.centroid
                v = np.array([e.position.x - c.x, e.position.y - c.y])
            v = v / max(np.hypot(*v), 1e-9)
            ent.append((q.x + 1.5 * v[0], q.y + 1.5 * v[1]))
    inner = site.boundary.buffer(-1.5)
    ring = inner.exterior if isinstance(inner, Polygon) and not inner.is_empty else site.boundary.exterior
    per = [ring.interpolate(d) for d in np.arange(0.0, ring.length, 5.0)]
    c = site.boundary.centroid
    gates = []
    for gt in site.gates:
        v = np.array([c.x - gt.position.x, c.y - gt.position.y])
        v = v / max(np.hypot(*v), 1e-9)
        gates.append((gt.position.x + 2.0 * v[0], gt.position.y + 2.0 * v[1]))
    sets = {"public_area": pub, "entrances": np.asarray(ent, float).reshape(-1, 2),
            "perimeter": np.array([[p.x, p.y] for p in per], float).reshape(-1, 2),
            "gates": np.asarray(gates, float).reshape(-1, 2)}
    poses = _poses(outdoor)
    area = float(public.area)
    out: dict[str, float] = {"cameras": float(len(cameras)), "outdoor_cameras": float(len(outdoor)),
                             "public_area_m2": area,
                             "density_per_200m2": len(cameras) * DENSITY_AREA_M2 / area if area > 0 else math.nan}
    for name, pts in sets.items():
        if pts.shape[0] == 0:
            out[f"coverage_{name}"] = math.nan
        elif len(poses) == 0:
            out[f"coverage_{name}"] = 0.0
        else:
            v = visibility(grid, poses, pts, target_height_m=target_height_m)
            out[f"coverage_{name}"] = float((v.counts() > 0).mean())
    return out


# --------------------------------------------------------------------------- responders
def _loop_nodes(g: nx.Graph, site: Site, out_nodes: Sequence[str], out_xy: NDArray[np.float64]) -> list[str]:
    """A patrol loop through the gates and the nodes nearest the boundary's corners, in angle
    order round the centroid, joined by shortest outdoor paths."""
    c = site.boundary.centroid
    way: list[str] = [gt.id for gt in site.gates if gt.id in g]
    for x, y in list(site.boundary.exterior.coords)[:-1]:
        way.append(out_nodes[int(np.argmin(np.hypot(out_xy[:, 0] - x, out_xy[:, 1] - y)))])
    way = list(dict.fromkeys(way))
    way.sort(key=lambda n: math.atan2(g.nodes[n]["y"] - c.y, g.nodes[n]["x"] - c.x))
    sub = g.subgraph(out_nodes)
    loop: list[str] = []
    for a, b in zip(way, way[1:] + way[:1]):
        if a == b:
            continue
        p = nx.shortest_path(sub, a, b, weight="length_m")
        loop.extend(p[:-1])
    return loop or way


def default_responders(site: Site, *, graph: nx.Graph | None = None, residents_per_patrol: float = 500.0,
                       residents_per_household: float = 2.83, patrols: Sequence[Sequence[str]] | None = None
                       ) -> list[Responder]:
    """Guards (one per ``residents_per_patrol`` residents, domain.md practice 4, in three
    8-hour shifts; per shift one at the main gate, the rest on patrol loops) and one grid worker
    per grid, 08:00-18:00 (module docstring)."""
    g = graph if graph is not None else incident_places(site).graph
    pl_nodes = [n for n, d in g.nodes(data=True) if d.get("building") is None]
    xy = np.array([[g.nodes[n]["x"], g.nodes[n]["y"]] for n in pl_nodes], float)
    residents = site.households * residents_per_household
    staff = max(3, math.ceil(residents / residents_per_patrol))
    per_shift = math.ceil(staff / 3)
    gates = [gt for gt in site.gates if gt.id in g]
    main = next((gt for gt in gates if gt.access in ("guard", "qr")), gates[0] if gates else None)
    post = main.id if main is not None else pl_nodes[0]
    loops = [tuple(p) for p in patrols] if patrols is not None else [tuple(_loop_nodes(g, site, pl_nodes, xy))]
    out: list[Responder] = []
    for s, (a, b) in enumerate(((0.0, 8.0), (8.0, 16.0), (16.0, 24.0))):
        n_pat = per_shift - 1
        for k in range(per_shift):
            if k == 0 or not loops or not loops[0]:
                out.append(Responder(f"guard-s{s + 1}-{k + 1}", "guard", post, ((a, b),)))
            else:
                lp = loops[(k - 1) % len(loops)]
                out.append(Responder(f"guard-s{s + 1}-{k + 1}", "guard", lp[0], ((a, b),), patrol=lp,
                                     phase=(k - 1) / max(n_pat, 1)))
    for gr in site.grids:
        p = gr.polygon.representative_point()
        node = pl_nodes[int(np.argmin(np.hypot(xy[:, 0] - p.x, xy[:, 1] - p.y)))]
        out.append(Responder(f"grid-{gr.id}", "grid_worker", node, ((8.0, 18.0),)))
    return out


@dataclass
class _Loop:
    nodes: list[str]
    xy: NDArray[np.float64]
    cum: NDArray[np.float64]
    length: float


def _make_loop(g: nx.Graph, nodes: Sequence[str]) -> _Loop:
    bad = [n for n in nodes if n not in g]
    if bad:
        raise ValueError(f"patrol loop: nodes not in the navigation graph: {', '.join(map(str, bad[:10]))}")
    ns = list(nodes)
    if ns[-1] != ns[0]:
        ns.append(ns[0])
    xy = np.array([[g.nodes[n]["x"], g.nodes[n]["y"]] for n in ns], float)
    cum = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    return _Loop(ns, xy, cum, float(cum[-1]))


def _loop_pos(lp: _Loop, t: NDArray[np.float64], speed: float, phase: float) -> NDArray[np.float64]:
    if lp.length <= 0:
        return np.repeat(lp.xy[:1], len(t), axis=0)
    s = (speed * t + phase * lp.length) % lp.length
    return np.c_[np.interp(s, lp.cum, lp.xy[:, 0]), np.interp(s, lp.cum, lp.xy[:, 1])]


def _loop_node(lp: _Loop, t: float, speed: float, phase: float) -> str:
    if lp.length <= 0:
        return lp.nodes[0]
    s = (speed * t + phase * lp.length) % lp.length
    return lp.nodes[int(np.argmin(np.abs(lp.cum[:-1] - s)))]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class SecurityResult:
    """A run of :func:`simulate_security`: ``incidents`` (one row per incident: the stream's
    columns plus ``detected``, ``detected_by``, ``t_detect_s``, ``time_to_detect_s``,
    ``t_alarm_s``, ``responder``, ``t_dispatch_s``, ``t_arrive_s``, ``response_s`` (arrival -
    alarm), ``within_target``, ``prevented``, ``caught``, ``gate_logged``, ``cameras_seeing``),
    ``summary`` (metrics, :func:`simulate_security`), ``coverage`` (:func:`camera_coverage`), the
    incident ``stream`` and the settings."""

    incidents: pd.DataFrame
    summary: dict[str, Any]
    coverage: dict[str, float]
    stream: IncidentStream
    settings: SecuritySettings
    responders: list[Responder]


@dataclass
class _Ctx:
    site: Site
    st: SecuritySettings
    root: SeedSequence
    grid: OcclusionGrid
    cams: list[Device]
    poses: PoseArray
    cam_keys: list[int]
    responders: list[Responder]
    loops: dict[str, _Loop]
    node_index: dict[str, int]
    nodes: list[str]
    csr_time: csr_matrix
    devices_by_unit: dict[str, set[DeviceKind]]
    gate_access: dict[str, str]


def _u(ctx: _Ctx, *key: int) -> float:
    """A uniform draw keyed by ``key`` (independent of every other draw of the run)."""
    seq = SeedSequence(entropy=ctx.root.entropy, spawn_key=(*ctx.root.spawn_key, _TAG, *key),
                       pool_size=ctx.root.pool_size)
    return float(Generator(PCG64(seq)).random())


def _uexp(ctx: _Ctx, mean: float, *key: int) -> float:
    return -mean * math.log(max(1.0 - _u(ctx, *key), 1e-300))


def _episodes(idx: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    if idx.size == 0:
        return []
    cut = np.flatnonzero(np.diff(idx) > 1) + 1
    return np.split(idx, cut)


def _camera_detect(ctx: _Ctx, inc: int, t: NDArray[np.float64], seen: list[tuple[int, NDArray[np.int64],
                   NDArray[np.float64]]], accuracy: float) -> tuple[float, str, int]:
    """Earliest camera detection (time, camera id) over samples ``t``, given ``seen``: per camera
    that sees some sample, (camera index, sample indices ascending, distances m); and the count
    of cameras seeing."""
    st = ctx.st
    best, who = math.inf, ""
    light = st.light(t)
    for c, idx, dist in seen:
        q = detection_probability(dist, ctx.poses.range_m[c], model=st.distance_model, d50_fraction=st.d50_fraction)
        start = 0
        for k, ep in enumerate(_episodes(idx)):
            qe = q[start:start + ep.size]
            j = int(np.argmax(qe))
            start += ep.size
            ts = float(t[ep[j]])
            if ts >= best:
                continue
            p = accuracy * float(qe[j]) * float(light[ep[j]])
            if p > 0 and _u(ctx, 1, inc, ctx.cam_keys[c], k) < p:
                best, who = ts, ctx.cams[c].id
    return best, who, len(seen)


def _samples(st: SecuritySettings, row: pd.Series, track: Track | None) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The (times, positions) at which cameras look for an incident (None: cameras play no part)."""
    t0 = float(row["t_s"])
    if track is not None:
        n = max(2, int(math.ceil((track.t_end - t0) / st.sample_dt_s)) + 1)
        ts = np.linspace(t0, track.t_end, n)
        return ts, track.position(ts)
    if row["kind"] in ("fall", "thrown_object") and not bool(row["indoor"]):
        return np.array([t0]), np.array([[float(row["x"]), float(row["y"])]])
    return None


def _batched_sightings(ctx: _Ctx, samples: list[tuple[NDArray[np.float64], NDArray[np.float64]] | None]
                       ) -> list[list[tuple[int, NDArray[np.int64], NDArray[np.float64]]]]:
    """One occlusion-aware visibility call over every incident's samples, split back per incident."""
    out: list[list[tuple[int, NDArray[np.int64], NDArray[np.float64]]]] = [[] for _ in samples]
    sizes = np.array([0 if s is None else s[1].shape[0] for s in samples], np.int64)
    if len(ctx.poses) == 0 or sizes.sum() == 0:
        return out
    xy = np.concatenate([s[1] for s in samples if s is not None], axis=0)
    offs = np.r_[0, np.cumsum(sizes)]
    vis = visibility(ctx.grid, ctx.poses, xy, target_height_m=ctx.st.target_height_m)
    for c in range(len(ctx.poses)):
        lo, hi = vis.indptr[c], vis.indptr[c + 1]
        if hi == lo:
            continue
        idx, dist = vis.indices[lo:hi], vis.distance_m[lo:hi]
        seg = np.searchsorted(offs, idx, side="right") - 1
        cuts = np.flatnonzero(np.diff(seg)) + 1
        for part_i, part_d in zip(np.split(idx, cuts), np.split(dist, cuts)):
            i = int(seg[np.searchsorted(idx, part_i[0])])
            out[i].append((c, part_i - offs[i], part_d))
    return out


def _patrol_detect(ctx: _Ctx, inc: int, t: NDArray[np.float64], xy: NDArray[np.float64]) -> tuple[float, str]:
    st = ctx.st
    best, who = math.inf, ""
    g = ctx.grid
    light = st.light(t)
    for r_i, r in enumerate(ctx.responders):
        lp = ctx.loops.get(r.id)
        if lp is None:
            continue
        on = np.array([r.on_shift(float(x)) for x in t[:: max(1, int(60 / st.sample_dt_s))]])
        if not on.any():
            continue
        on_all = np.fromiter((r.on_shift(float(x)) for x in t), bool, t.size)
        gp = _loop_pos(lp, t, st.patrol_speed_m_s, r.phase)
        seen = pair_sight(g.height_m, float(g.origin[0]), float(g.origin[1]), float(g.cell_size_m),
                          np.ascontiguousarray(gp[:, 0]), np.ascontiguousarray(gp[:, 1]), float(st.patrol_eye_m),
                          np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]), float(st.target_height_m),
                          float(st.patrol_sight_m), 0.5) & on_all
        for k, ep in enumerate(_episodes(np.flatnonzero(seen))):
            ts = float(t[ep[0]])
            if ts >= best:
                break
            p = st.patrol_notice_p * float(light[ep[0]])
            if _u(ctx, 2, inc, zlib.crc32(r.id.encode()), k) < p:
                best, who = ts, r.id
                break
    return best, who


def _detect(ctx: _Ctx, row: pd.Series, track: Track | None,
            sample: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
            seen: list[tuple[int, NDArray[np.int64], NDArray[np.float64]]]) -> dict[str, Any]:
    """Detection of one incident: time, by whom, gate log, cameras seeing."""
    st = ctx.st
    inc = int(row["id"])
    t0 = float(row["t_s"])
    kind = row["kind"]
    cands: list[tuple[float, str]] = []
    gate_logged = ""
    seeing = 0
    if track is not None and sample is not None:
        ts, xy = sample
        tc, cid, seeing = _camera_detect(ctx, inc, ts, seen, st.ai_accuracy)
        if cid:
            cands.append((tc, f"camera:{cid}"))
        tp, pid = _patrol_detect(ctx, inc, ts, xy)
        if pid:
            cands.append((tp, f"patrol:{pid}"))
        entry = str(row["entry"])
        if entry in ctx.gate_access:
            gate_logged = entry
            pf = float(st.gate_flag_p.get(ctx.gate_access[entry], 0.0))
            if pf > 0 and _u(ctx, 3, inc) < pf:
                cands.append((t0, f"gate:{entry}"))
    elif kind == "fall" and bool(row["indoor"]):
        devs = ctx.devices_by_unit.get(str(row["place"]), set())
        if DeviceKind.WRISTBAND in devs and _u(ctx, 4, inc) < st.wristband_p:
            cands.append((t0 + st.wristband_delay_s, "wristband"))
        elif DeviceKind.EMERGENCY_BUTTON in devs and _u(ctx, 5, inc) < st.button_p:
            cands.append((t0 + st.button_delay_s, "button"))
        elif devs:
            cands.append((t0 + st.no_activity_s, "no_activity"))
        else:
            cands.append((t0 + _uexp(ctx, st.found_mean_s, 6, inc), "found"))
    elif kind in ("fall", "thrown_object"):
        xy = np.array([[float(row["x"]), float(row["y"])]])
        acc = st.ai_accuracy if kind == "fall" else st.warning_accuracy
        tc, cid, seeing = _camera_detect(ctx, inc, np.array([t0]), seen, acc)
        if cid:
            cands.append((tc, f"camera:{cid}"))
        if kind == "fall":
            ts = t0 + np.arange(0.0, 7200.0, st.sample_dt_s * 5)
            tp, pid = _patrol_detect(ctx, inc, ts, np.repeat(xy, ts.size, axis=0))
            if pid:
                cands.append((tp, f"patrol:{pid}"))
            mean = st.passerby_mean_s[1] if st.light(t0) < 1.0 else st.passerby_mean_s[0]
            cands.append((t0 + _uexp(ctx, mean, 7, inc), "passerby"))
        elif _u(ctx, 8, inc) < st.resident_report_p:
            cands.append((t0 + _uexp(ctx, st.resident_report_mean_s, 9, inc), "resident"))
    else:  # hazard
        cands.append((t0, "resident"))
    if cands:
        td, by = min(cands)
        return dict(detected=True, detected_by=by, t_detect_s=td, gate_logged=gate_logged, cameras_seeing=seeing)
    return dict(detected=False, detected_by="", t_detect_s=math.nan, gate_logged=gate_logged, cameras_seeing=seeing)


# --------------------------------------------------------------------------- dispatch
def _time_csr(g: nx.Graph, st: SecuritySettings) -> tuple[list[str], dict[str, int], csr_matrix]:
    nodes = list(g.nodes)
    idx = {n: i for i, n in enumerate(nodes)}
    rows, cols, w = [], [], []
    for u, v, d in g.edges(data=True):
        sp = st.stair_speed_m_s if d.get("kind") == "stair" else st.run_speed_m_s
        tt = max(float(d["length_m"]) / sp, 1e-6)
        rows += [idx[u], idx[v]]
        cols += [idx[v], idx[u]]
        w += [tt, tt]
    return nodes, idx, csr_matrix((w, (rows, cols)), shape=(len(nodes), len(nodes)))


def _simulate_dispatch(ctx: _Ctx, table: pd.DataFrame, det: list[dict[str, Any]], tracks: Mapping[int, Track],
                       places_xy: tuple[list[str], NDArray[np.float64]]) -> list[dict[str, Any]]:
    st = ctx.st
    env = simpy.Environment()
    res = {r.id: simpy.Resource(env, capacity=1) for r in ctx.responders}
    freed: list[simpy.Event] = [env.event()]
    out: list[dict[str, Any]] = [dict(responder="", t_dispatch_s=math.nan, t_arrive_s=math.nan,
                                      prevented=False, caught=False) for _ in range(len(table))]
    roles = {r.role for r in ctx.responders}
    ratio = st.run_speed_m_s / st.patrol_speed_m_s
    out_nodes, out_xy = places_xy

    def position_node(r: Responder, t: float) -> str:
        lp = ctx.loops.get(r.id)
        return _loop_node(lp, t, st.patrol_speed_m_s, r.phase) if lp is not None else r.post

    def release(r: Responder, req: simpy.Request) -> None:
        res[r.id].release(req)
        ev = freed[0]
        freed[0] = env.event()
        ev.succeed()

    def incident(i: int, row: pd.Series) -> Any:
        d = det[i]
        t_alarm = float(d["t_detect_s"]) + st.alarm_latency_s + st.verify_s
        yield env.timeout(max(0.0, t_alarm - env.now))
        role = "grid_worker" if row["kind"] == "hazard" and "grid_worker" in roles else "guard"
        pool = [r for r in ctx.responders if r.role == role]
        if not pool:
            return
        track = tracks.get(int(row["id"]))
        if track is not None:  # the operator sends someone to where the subject was seen
            p = track.position(float(d["t_detect_s"]))[0]
            seen_node = out_nodes[int(np.argmin(np.hypot(out_xy[:, 0] - p[0], out_xy[:, 1] - p[1])))]
            goal = ctx.node_index[seen_node]
        else:
            goal = ctx.node_index[str(row["node"])]
        while True:
            cur = pool
            if role == "grid_worker" and not any(r.on_shift(env.now) for r in pool):
                cur = [r for r in ctx.responders if r.role == "guard"] or pool  # out of hours: the guards
            free = [r for r in cur if r.on_shift(env.now) and res[r.id].count == 0 and not res[r.id].queue]
            if free:
                break
            nxt = min(r.next_change(env.now) for r in cur)
            yield freed[0] | env.timeout(max(nxt - env.now, 1e-3))
        dist = dijkstra(ctx.csr_time, directed=False, indices=goal)
        where = {r.id: position_node(r, env.now) for r in free}
        r = min(free, key=lambda r: (dist[ctx.node_index[where[r.id]]], r.id))
        req = res[r.id].request()
        yield req
        t_disp = env.now
        src = ctx.node_index[where[r.id]]
        tt = dijkstra(ctx.csr_time, directed=False, indices=src)
        prevented = caught = False
        if track is not None:
            arrive = math.inf
            for n, tn in zip(track.nodes, track.node_t):
                ta = t_disp + tt[ctx.node_index[n]]
                if tn >= t_disp and ta <= tn:
                    arrive = min(arrive, ta)
            tgt = ctx.node_index[str(row["node"])]
            t_tgt = t_disp + tt[tgt]
            if math.isfinite(arrive) or t_tgt <= track.t_target:
                prevented = True
                arrive = min(arrive, t_tgt)
            elif t_tgt <= track.t_leave:
                caught = True
                arrive = t_tgt
            else:
                arrive = t_tgt
            back_node = tgt
        else:
            back_node = ctx.node_index[str(row["node"])]
            arrive = t_disp + tt[back_node]
        if not math.isfinite(arrive):
            release(r, req)
            return
        yield env.timeout(arrive - env.now)
        out[i].update(responder=r.id, t_dispatch_s=t_disp, t_arrive_s=arrive, prevented=prevented, caught=caught)
        back = tt[ctx.node_index[r.post]] if math.isfinite(tt[ctx.node_index[r.post]]) else 0.0
        yield env.timeout(st.on_scene_s + back * ratio)
        release(r, req)

    for i, row in table.iterrows():
        if det[i]["detected"]:
            env.process(incident(int(i), row))
    env.run()
    return out


# --------------------------------------------------------------------------- public
def _q(a: NDArray[np.float64], q: float) -> float:
    a = a[np.isfinite(a)]
    return float(np.quantile(a, q)) if a.size else math.nan


def simulate_security(
    site: Site,
    *,
    days: float,
    seed: int | SeedSequence = 0,
    cameras: Sequence[Device] | None = None,
    patrols: Sequence[Sequence[str]] | None = None,
    guards: Sequence[Responder] | None = None,
    settings: SecuritySettings | None = None,
    incident_settings: IncidentSettings | None = None,
    stream: IncidentStream | None = None,
    graph: nx.Graph | None = None,
    grid: OcclusionGrid | None = None,
) -> SecurityResult:
    """Simulate ``days`` days of incidents and the security response on ``site`` (module
    docstring). ``cameras``: camera devices (default the site's); ``patrols``: patrol loops as
    node sequences for the default guards (default: one loop through the gates and corners);
    ``guards``: the responders (default :func:`default_responders`); ``stream``: reuse an
    incident stream (else drawn with ``seed`` and ``incident_settings``).

    ``summary`` keys: ``days``, ``seed``, ``n_incidents``, ``by_kind`` (counts),
    ``detection_rate`` (all incidents), ``detection_rate_by_kind``, ``subject_detection_rate``
    (thefts and intrusions), ``camera_detections`` (incidents first detected by a camera),
    ``time_to_detect_p50_s`` / ``time_to_detect_mean_s`` (detected subjects, from onset),
    ``response_p50_s`` / ``response_p90_s`` (emergencies: all kinds but hazards, arrival -
    alarm), ``within_target_share`` (emergencies answered within ``response_target_s``, 15 min),
    ``hazard_response_p50_s``, ``subjects``, ``prevented``, ``prevented_rate``, ``caught``,
    the :func:`camera_coverage` figures and ``wall_s``."""
    t_start = time.perf_counter()
    st = (settings or SecuritySettings()).validate()
    root = root_sequence(seed)
    cams = list(site.devices_of(DeviceKind.CAMERA) if cameras is None else cameras)
    if stream is None:
        stream = generate_incidents(site, days=days, seed=root, settings=incident_settings, graph=graph)
    elif abs(stream.days - float(days)) > 1e-9:
        raise ValueError(f"stream covers {stream.days} days but days={days!r}")
    pl = stream.places
    g = pl.graph
    grid = grid if grid is not None else occlusion_grid(site, cell_size_m=st.cell_size_m)
    outdoor = outdoor_camera_devices(site, cams)
    responders = list(guards) if guards is not None else default_responders(site, graph=g, patrols=patrols)
    problems = []
    for r in responders:
        if r.post not in g:
            problems.append(f"responder {r.id}: field 'post' {r.post!r} is not a node of the navigation graph")
        if r.role not in ("guard", "grid_worker"):
            problems.append(f"responder {r.id}: field 'role' must be 'guard' or 'grid_worker', got {r.role!r}")
    if problems:
        raise ValueError("simulate_security: " + "; ".join(problems))
    loops = {r.id: _make_loop(g, r.patrol) for r in responders if r.patrol}
    nodes, node_index, csr_time = _time_csr(g, st)
    by_unit: dict[str, set[DeviceKind]] = {}
    for d in site.devices:
        if d.unit and d.kind in (DeviceKind.WRISTBAND, DeviceKind.EMERGENCY_BUTTON):
            by_unit.setdefault(d.unit, set()).add(d.kind)
    ctx = _Ctx(site=site, st=st, root=root, grid=grid, cams=outdoor, poses=_poses(outdoor),
               cam_keys=[zlib.crc32(c.id.encode()) for c in outdoor], responders=responders, loops=loops,
               node_index=node_index, nodes=nodes, csr_time=csr_time, devices_by_unit=by_unit,
               gate_access={gt.id: gt.access for gt in site.gates})
    table = stream.table
    rows = [row for _, row in table.iterrows()]
    samples = [_samples(st, row, stream.tracks.get(int(row["id"]))) for row in rows]
    sightings = _batched_sightings(ctx, samples)
    det = [_detect(ctx, row, stream.tracks.get(int(row["id"])), samples[i], sightings[i])
           for i, row in enumerate(rows)]
    disp = _simulate_dispatch(ctx, table, det, stream.tracks, (pl.out_nodes, pl.out_xy))
    df = table.copy()
    for k in ("detected", "detected_by", "t_detect_s", "gate_logged", "cameras_seeing"):
        df[k] = [d[k] for d in det]
    for k in ("responder", "t_dispatch_s", "t_arrive_s", "prevented", "caught"):
        df[k] = [d[k] for d in disp]
    df["time_to_detect_s"] = df["t_detect_s"] - df["t_s"]
    df["t_alarm_s"] = np.where(df["detected"], df["t_detect_s"] + st.alarm_latency_s + st.verify_s, np.nan)
    df["response_s"] = df["t_arrive_s"] - df["t_alarm_s"]
    target = np.where(df["kind"] == "hazard", st.hazard_target_s, st.response_target_s)
    df["within_target"] = df["response_s"].to_numpy(float) <= target
    cov = camera_coverage(site, cams, grid=grid, target_height_m=st.target_height_m)
    subj = df["kind"].isin(SUBJECT_KINDS).to_numpy()
    emerg = (df["kind"] != "hazard").to_numpy()
    resp = df["response_s"].to_numpy(float)
    det_ok = df["detected"].to_numpy(bool)
    n_sub = int(subj.sum())
    summary: dict[str, Any] = {
        "days": float(days), "seed": int(root.entropy) if isinstance(root.entropy, int) else None,
        "n_incidents": int(len(df)),
        "by_kind": {k: int(v) for k, v in df["kind"].value_counts().sort_index().items()},
        "detection_rate": float(det_ok.mean()) if len(df) else math.nan,
        "detection_rate_by_kind": {k: float(v) for k, v in df.groupby("kind")["detected"].mean().items()},
        "subjects": n_sub,
        "subject_detection_rate": float(det_ok[subj].mean()) if n_sub else math.nan,
        "camera_detections": int(df["detected_by"].str.startswith("camera:").sum()),
        "time_to_detect_p50_s": _q(df["time_to_detect_s"].to_numpy(float)[subj & det_ok], 0.5),
        "time_to_detect_mean_s": float(np.nanmean(df["time_to_detect_s"].to_numpy(float)[subj & det_ok]))
        if (subj & det_ok).any() else math.nan,
        "response_p50_s": _q(resp[emerg], 0.5),
        "response_p90_s": _q(resp[emerg], 0.9),
        "within_target_share": float(np.mean(resp[emerg & np.isfinite(resp)] <= st.response_target_s))
        if (emerg & np.isfinite(resp)).any() else math.nan,
        "hazard_response_p50_s": _q(resp[~emerg], 0.5),
        "prevented": int(df["prevented"].sum()),
        "prevented_rate": float(df["prevented"].to_numpy(bool)[subj].mean()) if n_sub else math.nan,
        "caught": int(df["caught"].sum()),
    }
    summary.update(cov)
    summary["wall_s"] = time.perf_counter() - t_start
    return SecurityResult(incidents=df, summary=summary, coverage=cov, stream=stream, settings=st,
                          responders=responders)


@dataclass(frozen=True)
class CameraComparison:
    """Two camera sets on the same incident stream: ``a`` and ``b`` results, ``labels``,
    ``difference`` (b - a for every numeric summary figure) and ``gained`` / ``lost``: ids of
    incidents detected only with b / only with a."""

    a: SecurityResult
    b: SecurityResult
    labels: tuple[str, str]
    difference: dict[str, float]
    gained: list[int]
    lost: list[int]

    def table(self) -> pd.DataFrame:
        """The numeric summary figures side by side with the difference."""
        keys = list(self.difference)
        return pd.DataFrame({self.labels[0]: [self.a.summary[k] for k in keys],
                             self.labels[1]: [self.b.summary[k] for k in keys],
                             "difference": [self.difference[k] for k in keys]}, index=keys)


def compare_cameras(
    site: Site,
    cameras_a: Sequence[Device] | None,
    cameras_b: Sequence[Device],
    *,
    days: float,
    seed: int | SeedSequence = 0,
    labels: tuple[str, str] = ("existing", "plan"),
    **options: Any,
) -> CameraComparison:
    """Run :func:`simulate_security` with camera sets ``cameras_a`` (``None``: the site's) and
    ``cameras_b`` on the same incident stream, patrols, responders and seed; report the
    difference (what choosing b over a buys). ``options`` go to :func:`simulate_security`."""
    root = root_sequence(seed)
    st = options.pop("settings", None) or SecuritySettings()
    stream = options.pop("stream", None) or generate_incidents(
        site, days=days, seed=root, settings=options.pop("incident_settings", None), graph=options.pop("graph", None))
    grid = options.pop("grid", None) or occlusion_grid(site, cell_size_m=st.cell_size_m)
    ra = simulate_security(site, days=days, seed=root, cameras=cameras_a, stream=stream, grid=grid, settings=st,
                           **options)
    rb = simulate_security(site, days=days, seed=root, cameras=cameras_b, stream=stream, grid=grid, settings=st,
                           guards=ra.responders, **{k: v for k, v in options.items() if k not in ("guards", "patrols")})
    diff = {k: float(rb.summary[k]) - float(va) for k, va in ra.summary.items()
            if isinstance(va, (int, float)) and not isinstance(va, bool) and k not in ("days", "seed", "wall_s")
            and va is not None}
    da = ra.incidents["detected"].to_numpy(bool)
    db = rb.incidents["detected"].to_numpy(bool)
    ids = ra.incidents["id"].to_numpy()
    return CameraComparison(a=ra, b=rb, labels=labels, difference=diff, gained=[int(i) for i in ids[db & ~da]],
                            lost=[int(i) for i in ids[da & ~db]])



