"""The multi-level navigation graph of a site: flats, corridors, stairs, exits, paths, gates and
assembly points as one ``networkx.Graph`` for route choice and network evacuation estimates.

Nodes carry ``kind``, ``x``, ``y``, ``z`` (m), ``level`` and ``building`` (``None`` outdoors):

=========== ====================== ===============================================
kind        id                     where
=========== ====================== ===============================================
unit        ``B03-L05-U02``        a flat's centre (``room``: ``B03-L01-R01``, rooms
                                   of non-residential storeys)
corridor    ``B03-L05-C``          the storey's corridor (garage/basement levels: the
                                   open floor), at its middle
landing     ``B03-S1-L05``         the stair core's landing on that level
exit        ``B03-E1``             the building exit door
path        ``J0001`` ...          junctions of the outdoor way network
gate        gate id                a gate of the estate
assembly    open-space id          an assembly point (at its representative point)
=========== ====================== ===============================================

Edges carry ``length_m``, ``width_m`` (clear width), ``kind`` and, where relevant, ``level``,
``building``, ``stair``, ``way``: ``door`` (unit to landing/corridor, 0.9 m; landing/corridor
to exit, the exit's width: on a walk-up storey the exit's nearest landing; on a storey with a
corridor or open floor the corridor, plus the nearest landing when it lies within 10 m), ``corridor`` (corridor to landing, 1.5 m), ``stair`` (landing to
landing one storey up), ``connector`` (exit, gate or assembly point to the nearest point of the
way network), and ``path`` / ``road`` / ``ramp`` for way pieces (walkway; road and fire lane;
ramp) with the way's width.

Storey layouts come from :mod:`geometry.floorplan`. In-storey lengths: unit centre to its door,
then straight to the landing (walk-ups) or along the corridor (Manhattan distance in the
building's axes) to the corridor node; corridor node to a landing likewise. With one corridor
node per storey a route through the corridor passes its middle, so a flat next to a stair at a
corridor's end is charged up to the corridor's length extra (conservative).

Stair length per storey (two flights and the half landing): with riser 0.175 m and going
0.26 m — the residential limits of GB 50096-2011 §6.3.2, close to the 7 in / 11 in stair of
Fruin (1971) that underlies the SFPE Handbook's stair speeds — the horizontal run of a storey
of rise ``h`` is ``h * 0.26 / 0.175`` and the edge length ``sqrt(run² + h²) + 1.2`` m (1.2 m
for the half landing). Stairs respect ``lowest_level``/``highest_level``.

Ways are noded with shapely at their intersections, endpoints and the attachment points of
exits, gates and assembly points; a way end within ``snap_m`` of another way is joined to it by
a short piece of its own kind. Exits below ground (garage ramps) attach to the nearest ramp way
within 30 m when there is one. Assembly-point connectors measure to the area's outline (0 when
the way enters it): reaching the area counts as arrival.

``blocked`` (in :func:`route`, :func:`nearest_exit_routes`, :func:`check_connectivity`) is a set of
ids: a node id removes that node (a unit, landing, corridor, exit, junction, gate or assembly
point); a stair id (``B03-S1``) removes every ``stair`` edge of that stair (its landings stay, so
flats on it are cut off from other levels); a way id removes every piece of that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Collection, Iterable

import networkx as nx
import numpy as np
from shapely import STRtree
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geometry.floorplan import CORRIDOR_WIDTH_M, StoreyLayout, stair_level_range, storey_layout
from geometry.site import Building, Site, SiteError

__all__ = [
    "DOOR_WIDTH_M",
    "LANDING_LENGTH_M",
    "RISER_M",
    "GOING_M",
    "Route",
    "build_nav_graph",
    "check_connectivity",
    "graph_summary",
    "landing_id",
    "nearest_exit_routes",
    "nodes_of_kind",
    "route",
    "stair_flight_length",
    "unreachable",
    "node_xyz",
]

DOOR_WIDTH_M = 0.9
RISER_M = 0.175
GOING_M = 0.26
LANDING_LENGTH_M = 1.2
RAMP_EXIT_SEARCH_M = 30.0
#: An assembly point (open space) attaches to every way within this distance of it (m) ...
ASSEMBLY_ATTACH_M = 3.0
#: ... through a connector as wide as its frontage on that way, capped here (m).
ASSEMBLY_MAX_WIDTH_M = 30.0
EXIT_STAIR_RADIUS_M = 10.0
_TOL = 1e-3
_WAY_EDGE_KIND = {"walkway": "path", "road": "road", "fire_lane": "road", "ramp": "ramp"}


def stair_flight_length(rise_m: float) -> tuple[float, float]:
    """(length along the slope incl. the 1.2 m half landing, horizontal run) of one storey of
    rise ``rise_m`` (riser 0.175 m, going 0.26 m; GB 50096-2011 §6.3.2 / Fruin 1971)."""
    run = rise_m * GOING_M / RISER_M
    return math.hypot(run, rise_m) + LANDING_LENGTH_M, run


def landing_id(stair_id: str, level: int) -> str:
    return f"{stair_id}-L{level:02d}"


def _corridor_id(building: str, level: int) -> str:
    return f"{building}-L{level:02d}-C"


# --------------------------------------------------------------------- building part
def _storey_nodes(g: nx.Graph, b: Building, lay: StoreyLayout) -> None:
    z = lay.z
    lv = lay.level
    ux, uy = lay.axis

    def along(p: tuple[float, float], q: tuple[float, float]) -> float:
        """Walking length inside the storey: Manhattan in the building's axes along a corridor,
        straight otherwise."""
        dx, dy = q[0] - p[0], q[1] - p[1]
        if lay.mode == "corridor":
            return abs(dx * ux + dy * uy) + abs(-dx * uy + dy * ux)
        return math.hypot(dx, dy)

    cid = None
    cpos = None
    if lay.corridor is not None:
        cid = _corridor_id(b.id, lv)
        if lay.mode == "corridor":
            smid = 0.0
            cx, cy = lay.centre
            cand = Point(cx + smid * ux, cy + smid * uy)
            if not lay.corridor.buffer(1e-6).contains(cand):
                cand = lay.corridor.representative_point()
        else:
            cand = lay.corridor.centroid
            if not lay.corridor.contains(cand):
                cand = lay.corridor.representative_point()
        cpos = (cand.x, cand.y)
        g.add_node(cid, kind="corridor", x=cpos[0], y=cpos[1], z=z, level=lv, building=b.id)
    for st in lay.stairs:
        g.add_node(landing_id(st.id, lv), kind="landing", x=st.position.x, y=st.position.y, z=z, level=lv,
                   building=b.id, stair=st.id)
        if cid is not None and cpos is not None:
            sp = (st.position.x, st.position.y)
            width = CORRIDOR_WIDTH_M if lay.mode == "corridor" else 2.0 * st.width_m + 0.2
            g.add_edge(cid, landing_id(st.id, lv), kind="corridor", length_m=max(along(cpos, sp), _TOL),
                       width_m=width, level=lv, building=b.id)
    for u in lay.units:
        c = u.centre
        g.add_node(u.id, kind="unit" if u.kind == "dwelling" else "room", x=c.x, y=c.y, z=z, level=lv,
                   building=b.id, stair=u.stair, door_x=u.door.x, door_y=u.door.y)
        d_in = c.distance(u.door)
        if lay.mode == "walkup" and u.stair is not None:
            st = lay.stair(u.stair)
            g.add_edge(u.id, landing_id(st.id, lv), kind="door", width_m=DOOR_WIDTH_M,
                       length_m=max(d_in + u.door.distance(st.position), _TOL), level=lv, building=b.id)
        elif cid is not None and cpos is not None:
            g.add_edge(u.id, cid, kind="door", width_m=DOOR_WIDTH_M,
                       length_m=max(d_in + along((u.door.x, u.door.y), cpos), _TOL), level=lv, building=b.id)
    for e in lay.exits:
        g.add_node(e.id, kind="exit", x=e.position.x, y=e.position.y, z=b.level_z(e.level), level=e.level,
                   building=b.id, width_m=e.width_m)
        near = sorted(lay.stairs, key=lambda s: (s.position.distance(e.position), s.id))
        if cid is not None:  # corridor/open floor: the exit opens on it; a stair right there too
            near = [s for s in near[:1] if s.position.distance(e.position) <= EXIT_STAIR_RADIUS_M]
        for st in near[:1]:
            g.add_edge(landing_id(st.id, lv), e.id, kind="door", width_m=e.width_m,
                       length_m=max(st.position.distance(e.position), _TOL), level=lv, building=b.id)
        if cid is not None and cpos is not None:
            g.add_edge(cid, e.id, kind="door", width_m=e.width_m,
                       length_m=max(along(cpos, (e.position.x, e.position.y)), _TOL), level=lv, building=b.id)


def _building_part(g: nx.Graph, b: Building) -> None:
    for lv in b.levels:
        _storey_nodes(g, b, storey_layout(b, lv))
    # a fully underground building: its stairs surface at level 0 (kiosks) with the exits there
    surf = [s for s in b.stairs if 0 not in b.levels and 0 in stair_level_range(b, s)]
    for s in surf:
        g.add_node(landing_id(s.id, 0), kind="landing", x=s.position.x, y=s.position.y, z=b.level_z(0),
                   level=0, building=b.id, stair=s.id)
    for e in b.exits:
        if e.level in b.levels:
            continue
        g.add_node(e.id, kind="exit", x=e.position.x, y=e.position.y, z=b.level_z(e.level), level=e.level,
                   building=b.id, width_m=e.width_m)
        here = [s for s in b.stairs if e.level in stair_level_range(b, s)]
        if here:
            st = min(here, key=lambda s: (s.position.distance(e.position), s.id))
            g.add_edge(landing_id(st.id, e.level), e.id, kind="door", width_m=e.width_m,
                       length_m=max(st.position.distance(e.position), _TOL), level=e.level, building=b.id)
    for s in b.stairs:
        levels = stair_level_range(b, s)
        for lv in levels:
            if lv + 1 not in levels:
                continue
            rise = b.storey_height_m
            length, run = stair_flight_length(rise)
            g.add_edge(landing_id(s.id, lv), landing_id(s.id, lv + 1), kind="stair", width_m=s.width_m,
                       length_m=length, rise_m=rise, run_m=run, stair=s.id, building=b.id, level=lv)


# --------------------------------------------------------------------- outdoor part
class _Nodes:
    """Union-find over provisional outdoor points (merged where they coincide along a way)."""

    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self.parent: list[int] = []

    def add(self, x: float, y: float) -> int:
        self.xy.append((x, y))
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _points_of(geom: BaseGeometry) -> list[Point]:
    if geom.is_empty:
        return []
    if isinstance(geom, Point):
        return [geom]
    if isinstance(geom, LineString):  # collinear overlap: its ends
        c = list(geom.coords)
        return [Point(c[0]), Point(c[-1])]
    out: list[Point] = []
    for g in getattr(geom, "geoms", []):
        out.extend(_points_of(g))
    return out


def _outdoor_part(g: nx.Graph, site: Site, *, snap_m: float) -> None:
    ways = site.ways
    if not ways:
        return
    lines = [w.line for w in ways]
    tree = STRtree(lines)
    pts = _Nodes()
    cuts: list[list[tuple[float, int]]] = [[] for _ in ways]
    extra_edges: list[tuple[int, int, int]] = []  # (pid_a, pid_b, way index) snap pieces

    for i, ln in enumerate(lines):
        for d in (0.0, ln.length):
            p = ln.interpolate(d)
            cuts[i].append((d, pts.add(p.x, p.y)))
        if ln.is_closed:  # a loop (ring road): its two ends are one junction
            pts.union(cuts[i][0][1], cuts[i][1][1])
    a_idx, b_idx = tree.query(lines, predicate="intersects")
    for i, j in zip(a_idx.tolist(), b_idx.tolist()):
        if i >= j:
            continue
        for p in _points_of(lines[i].intersection(lines[j])):
            pid = pts.add(p.x, p.y)
            cuts[i].append((lines[i].project(p), pid))
            cuts[j].append((lines[j].project(p), pid))
    if snap_m > 0:
        for i, ln in enumerate(lines):
            for d in (0.0, ln.length):
                p = ln.interpolate(d)
                for j in tree.query(p, predicate="dwithin", distance=snap_m).tolist():
                    if j == i:
                        continue
                    gap = lines[j].distance(p)
                    if gap <= _TOL:
                        continue  # already an intersection
                    dj = lines[j].project(p)
                    q = lines[j].interpolate(dj)
                    pid = pts.add(q.x, q.y)
                    cuts[j].append((dj, pid))
                    end_pid = cuts[i][0][1] if d == 0.0 else cuts[i][1][1]
                    extra_edges.append((end_pid, pid, i))

    # attachments: exits, gates, assembly points -> a point on the nearest way
    attach: list[tuple[str, int, float, float]] = []  # (node id, pid, connector length, width)
    ramp_idx = [i for i, w in enumerate(ways) if w.kind == "ramp"]
    ramp_tree = STRtree([lines[i] for i in ramp_idx]) if ramp_idx else None

    def attach_point(geom: BaseGeometry, prefer_ramp: bool) -> tuple[int, Point]:
        j = -1
        if prefer_ramp and ramp_tree is not None:
            k = int(ramp_tree.query_nearest(geom)[0])
            if lines[ramp_idx[k]].distance(geom) <= RAMP_EXIT_SEARCH_M:
                j = ramp_idx[k]
        if j < 0:
            j = int(tree.query_nearest(geom)[0])
        q = nearest_points(lines[j], geom)[0]
        return j, q

    for b in site.buildings:
        for e in b.exits:
            j, q = attach_point(e.position, e.level < 0)
            pid = pts.add(q.x, q.y)
            cuts[j].append((lines[j].project(q), pid))
            attach.append((e.id, pid, e.position.distance(q), e.width_m))
    for gt in site.gates:
        j, q = attach_point(gt.position, False)
        pid = pts.add(q.x, q.y)
        cuts[j].append((lines[j].project(q), pid))
        attach.append((gt.id, pid, gt.position.distance(q), gt.width_m))
    for o in site.assembly_points:
        # an open space is entered along its whole frontage: attach it to every way that runs
        # within ASSEMBLY_ATTACH_M of it, as wide as the frontage (at least the way, at most
        # ASSEMBLY_MAX_WIDTH_M), else to the nearest way
        near = [int(j) for j in tree.query(o.polygon, predicate="dwithin", distance=ASSEMBLY_ATTACH_M)]
        if not near:
            near = [int(tree.query_nearest(o.polygon)[0])]
        for j in sorted(near):
            q = nearest_points(lines[j], o.polygon)[0]
            pid = pts.add(q.x, q.y)
            cuts[j].append((lines[j].project(q), pid))
            reach = lines[j].buffer(ways[j].width_m / 2.0 + ASSEMBLY_ATTACH_M)
            frontage = o.polygon.exterior.intersection(reach).length
            width = max(ways[j].width_m, min(frontage, ASSEMBLY_MAX_WIDTH_M))
            attach.append((o.id, pid, o.polygon.distance(q), width))

    # merge coincident cut points along each way, then name junctions in way order
    for i in range(len(ways)):
        cuts[i].sort()
        for k in range(1, len(cuts[i])):
            if cuts[i][k][0] - cuts[i][k - 1][0] <= _TOL:
                pts.union(cuts[i][k][1], cuts[i][k - 1][1])
    names: dict[int, str] = {}

    def name(pid: int) -> str:
        r = pts.find(pid)
        if r not in names:
            names[r] = f"J{len(names) + 1:04d}"
            x, y = pts.xy[r]
            g.add_node(names[r], kind="path", x=x, y=y, z=_ground_z(site, x, y), level=0, building=None)
        return names[r]

    def add_piece(a: str, b: str, length: float, i: int) -> None:
        if a == b:
            return
        w = ways[i]
        if g.has_edge(a, b) and g.edges[a, b]["length_m"] <= length:
            return
        g.add_edge(a, b, kind=_WAY_EDGE_KIND.get(w.kind, "path"), length_m=max(length, _TOL), width_m=w.width_m,
                   way=w.id, way_kind=w.kind, level=0)

    for i in range(len(ways)):
        prev_d, prev = None, None
        for d, pid in cuts[i]:
            nm = name(pid)
            if prev is not None and prev_d is not None and nm != prev:
                add_piece(prev, nm, d - prev_d, i)
            if nm != prev:
                prev_d, prev = d, nm
    for pa, pb, i in extra_edges:
        xa, ya = pts.xy[pts.find(pa)]
        xb, yb = pts.xy[pts.find(pb)]
        add_piece(name(pa), name(pb), math.hypot(xa - xb, ya - yb), i)

    # gates and assembly nodes, then connectors
    for gt in site.gates:
        g.add_node(gt.id, kind="gate", x=gt.position.x, y=gt.position.y, z=_ground_z(site, gt.position.x, gt.position.y),
                   level=0, building=None, width_m=gt.width_m)
    for o in site.assembly_points:
        rp = o.polygon.representative_point()
        g.add_node(o.id, kind="assembly", x=rp.x, y=rp.y, z=_ground_z(site, rp.x, rp.y), level=0, building=None,
                   capacity=o.capacity)
    for nid, pid, length, width in attach:
        g.add_edge(nid, name(pid), kind="connector", length_m=max(length, _TOL), width_m=width, level=0)


def _ground_z(site: Site, x: float, y: float) -> float:
    if site.terrain is None:
        return 0.0
    return float(site.terrain.elevation_at(x, y))


# --------------------------------------------------------------------- public
def build_nav_graph(site: Site, *, snap_m: float = 1.0, check: bool = True) -> nx.Graph:
    """The navigation graph of ``site`` (schema in the module docstring).

    ``snap_m``: a way end this close to another way is joined to it. With ``check`` (default)
    the graph must let every unit/room reach a gate or an assembly point, else
    :class:`SiteError` (see :func:`check_connectivity`)."""
    if snap_m < 0:
        raise ValueError(f"snap_m must be >= 0, got {snap_m}")
    g = nx.Graph(site=site.name)
    for b in site.buildings:
        _building_part(g, b)
    _outdoor_part(g, site, snap_m=snap_m)
    if check:
        check_connectivity(g, source=site.source or site.name)
    return g


def nodes_of_kind(graph: nx.Graph, *kinds: str) -> list[str]:
    """Node ids whose ``kind`` is one of ``kinds``, in insertion order."""
    ks = set(kinds)
    return [n for n, k in graph.nodes(data="kind") if k in ks]


def _blocked_view(graph: nx.Graph, blocked: Collection[str]) -> nx.Graph:
    """The graph without the ``blocked`` ids (node ids, stair ids, way ids; module docstring)."""
    if not blocked:
        return graph
    blocked = set(blocked)
    stairs = {s for _, _, s in graph.edges(data="stair") if s is not None}
    ways = {w for _, _, w in graph.edges(data="way") if w is not None}
    unknown = sorted(x for x in blocked if x not in graph and x not in stairs and x not in ways)
    if unknown:
        raise ValueError(f"blocked ids not in the graph (no node, stair or way): {', '.join(unknown[:10])}")
    b_nodes = {x for x in blocked if x in graph}
    b_stairs = blocked & stairs
    b_ways = blocked & ways
    h = graph.copy()
    h.remove_nodes_from(b_nodes)
    if b_stairs or b_ways:
        drop = [
            (u, v)
            for u, v, d in h.edges(data=True)
            if (d.get("kind") == "stair" and d.get("stair") in b_stairs) or d.get("way") in b_ways
        ]
        h.remove_edges_from(drop)
    return h


def _targets(graph: nx.Graph, targets: str | Iterable[str]) -> list[str]:
    """Target node ids from ``targets``: a node id, a node kind ('exit', 'gate', 'assembly',
    'unit', ...) meaning every node of that kind, or an iterable mixing both."""
    items = [targets] if isinstance(targets, str) else list(targets)
    kinds = {k for _, k in graph.nodes(data="kind")}
    out: list[str] = []
    bad: list[str] = []
    for t in items:
        if t in graph:
            out.append(t)
        elif t in kinds:
            out.extend(nodes_of_kind(graph, t))
        else:
            bad.append(str(t))
    if bad:
        raise ValueError(f"neither node ids nor node kinds of the graph: {', '.join(bad[:10])}")
    return list(dict.fromkeys(out))


def route(
    graph: nx.Graph,
    source: str,
    targets: str | Iterable[str],
    *,
    blocked: Collection[str] = frozenset(),
    weight: str | Callable[..., float] = "length_m",
) -> list[str]:
    """The shortest route (node ids, ``source`` first) from ``source`` to the nearest of
    ``targets`` avoiding ``blocked`` (module docstring). Raises ``networkx.NetworkXNoPath``
    when every target is cut off."""
    if source not in graph:
        raise ValueError(f"source {source!r} is not a node of the graph")
    tg = _targets(graph, targets)
    h = _blocked_view(graph, blocked)
    tg = [t for t in tg if t in h]
    if source not in h:
        raise nx.NetworkXNoPath(f"source {source!r} is blocked")
    if not tg:
        raise nx.NetworkXNoPath(f"all targets of {source!r} are blocked")
    _, path = nx.multi_source_dijkstra(h, tg, target=source, weight=weight)
    return list(reversed(path))


@dataclass(frozen=True)
class Route:
    """A source's nearest target: ``length_m`` (sum of the weight) and the node ``path``."""

    length_m: float
    path: list[str]

    @property
    def target(self) -> str:
        return self.path[-1]


def nearest_exit_routes(
    graph: nx.Graph,
    *,
    sources: str | Iterable[str] = "unit",
    targets: str | Iterable[str] = "exit",
    blocked: Collection[str] = frozenset(),
    weight: str | Callable[..., float] = "length_m",
) -> dict[str, Route]:
    """For every source (default all flats), its nearest target (default all building exits;
    ``'assembly'`` or ``'gate'`` for the outdoor ones) and the route, in one multi-source
    Dijkstra. Sources that cannot reach any target are left out."""
    src = _targets(graph, sources)
    tg = _targets(graph, targets)
    h = _blocked_view(graph, blocked)
    tg = [t for t in tg if t in h]
    if not tg:
        return {}
    dist, paths = nx.multi_source_dijkstra(h, tg, weight=weight)
    out: dict[str, Route] = {}
    for s in src:
        if s in dist:
            out[s] = Route(float(dist[s]), list(reversed(paths[s])))
    return out


def unreachable(
    graph: nx.Graph,
    *,
    targets: str | Iterable[str] = ("gate", "assembly"),
    blocked: Collection[str] = frozenset(),
) -> list[str]:
    """Units and rooms that cannot reach any target (default: any gate or assembly point)."""
    h = _blocked_view(graph, blocked)
    kinds = {k for _, k in graph.nodes(data="kind")}
    items = [targets] if isinstance(targets, str) else list(targets)
    items = [t for t in items if t in graph or t in kinds]  # a kind the site lacks is no error here
    tg = [t for t in _targets(graph, items) if t in h] if items else []
    reach: set[str] = set()
    for comp in nx.connected_components(h):
        if any(t in comp for t in tg):
            reach |= comp
    return [n for n, k in graph.nodes(data="kind") if k in ("unit", "room") and n not in reach]


def check_connectivity(
    graph: nx.Graph,
    *,
    targets: str | Iterable[str] = ("gate", "assembly"),
    blocked: Collection[str] = frozenset(),
    source: str | None = None,
    show: int = 10,
) -> None:
    """Raise :class:`SiteError` when some unit or room cannot reach any gate or assembly point
    (or ``targets``) with ``blocked`` removed; the message lists the first ``show`` ids."""
    bad = unreachable(graph, targets=targets, blocked=blocked)
    if bad:
        head = ", ".join(bad[:show]) + (f", ... ({len(bad) - show} more)" if len(bad) > show else "")
        what = "a gate or assembly point" if targets == ("gate", "assembly") else f"any of {targets!r}"
        raise SiteError(
            [f"navigation graph: {len(bad)} unit(s)/room(s) cannot reach {what}: {head}"],
            source=source,
        )


def graph_summary(graph: nx.Graph) -> dict[str, object]:
    """Counts: nodes and edges by kind, buildings, levels, lengths (m) of way and stair edges,
    connected components."""
    nk: dict[str, int] = {}
    for _, k in graph.nodes(data="kind"):
        nk[k] = nk.get(k, 0) + 1
    ek: dict[str, int] = {}
    lengths: dict[str, float] = {}
    for _, _, d in graph.edges(data=True):
        k = d.get("kind", "?")
        ek[k] = ek.get(k, 0) + 1
        lengths[k] = lengths.get(k, 0.0) + float(d.get("length_m", 0.0))
    levels = [lv for _, lv in graph.nodes(data="level") if lv is not None]
    buildings = {b for _, b in graph.nodes(data="building") if b is not None}
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "nodes_by_kind": dict(sorted(nk.items())),
        "edges_by_kind": dict(sorted(ek.items())),
        "length_m_by_kind": {k: round(v, 1) for k, v in sorted(lengths.items())},
        "buildings": len(buildings),
        "levels": [int(min(levels)), int(max(levels))] if levels else [],
        "components": nx.number_connected_components(graph) if graph.number_of_nodes() else 0,
    }


def node_xyz(graph: nx.Graph, nodes: Iterable[str]) -> np.ndarray:
    """(n, 3) float array of the nodes' x, y, z (m)."""
    return np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"], graph.nodes[n]["z"]] for n in nodes], float)
