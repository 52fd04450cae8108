"""Navigation graph (geometry.navgraph) on small hand-built sites and the sample community."""

from __future__ import annotations

import math
import time

import networkx as nx
import pytest
from shapely.geometry import LineString, Point, box

from geometry.navgraph import (
    build_nav_graph,
    check_connectivity,
    graph_summary,
    nearest_exit_routes,
    route,
    stair_flight_length,
)
from geometry.site import Building, BuildingExit, BuildingUse, Gate, OpenSpace, Site, SiteError, StairCore, Way


def _outdoor(buildings: list[Building], extra_ways: list[Way] | None = None) -> Site:
    ways = [
        Way("W1", LineString([(-20, 16), (60, 16)]), 3.0),
        Way("W2", LineString([(40, 16), (40, -20)]), 4.0, kind="road"),
        Way("W3", LineString([(-10, 16.5), (-10, 30)]), 2.0),  # ends 0.5 m off W1: snapped
    ] + (extra_ways or [])
    return Site(
        "t", box(-20, -20, 60, 40), buildings=buildings, ways=ways,
        gates=[Gate("G1", Point(40, -20), kind="mixed")],
        open_spaces=[OpenSpace("A1", box(30, 20, 50, 38), capacity=400, assembly_point=True)],
    ).validate()


def walkup_site(n_stairs: int = 1, storeys: int = 6) -> Site:
    stairs = [StairCore(f"B01-S{k + 1}", "B01", Point(6 + 12 * k, 6), width_m=1.1) for k in range(n_stairs)]
    exits = [BuildingExit(f"B01-E{k + 1}", "B01", Point(6 + 12 * k, 12)) for k in range(n_stairs)]
    b = Building("B01", box(0, 0, 12 * n_stairs, 12), use=BuildingUse.WALKUP, storeys=storeys,
                 households_per_storey=2 * n_stairs, stairs=stairs, exits=exits)
    return _outdoor([b])


def highrise_site() -> Site:
    b = Building("H1", box(0, 0, 36, 12), use=BuildingUse.HIGHRISE, storeys=12, households_per_storey=6,
                 basement_levels=1,
                 stairs=[StairCore("H1-S1", "H1", Point(3, 6)), StairCore("H1-S2", "H1", Point(33, 6))],
                 exits=[BuildingExit("H1-E1", "H1", Point(3, 12), width_m=1.4),
                        BuildingExit("H1-E2", "H1", Point(33, 12), width_m=1.4)])
    return _outdoor([b])


def test_every_walkup_unit_reaches_a_gate() -> None:
    g = build_nav_graph(walkup_site(2))
    units = [n for n, k in g.nodes(data="kind") if k == "unit"]
    assert len(units) == 6 * 4
    for u in units:
        path = route(g, u, "gate")
        assert path[0] == u and path[-1] == "G1"
    kinds = {g.nodes[n]["kind"] for n in route(g, "B01-L05-U03", "G1")}
    assert {"unit", "landing", "exit", "path", "gate"} <= kinds
    # attributes
    n = g.nodes["B01-L05-U03"]
    assert n["level"] == 5 and n["building"] == "B01" and n["z"] == pytest.approx(5 * 2.9)
    assert g.nodes["J0001"]["building"] is None
    for _, _, d in g.edges(data=True):
        assert d["length_m"] > 0 and d["width_m"] > 0 and d["kind"]
    check_connectivity(g)


def test_stair_lengths_per_storey() -> None:
    g = build_nav_graph(walkup_site(1, storeys=6))
    stairs = [(u, v, d) for u, v, d in g.edges(data=True) if d["kind"] == "stair"]
    assert len(stairs) == 5  # levels 0-1, ..., 4-5
    rise = 2.9
    run = rise / (0.175 / 0.26)
    for _, _, d in stairs:
        assert d["rise_m"] == pytest.approx(rise)
        assert d["length_m"] == pytest.approx(math.hypot(run, rise) + 1.2)
        assert d["width_m"] == pytest.approx(1.1) and d["stair"] == "B01-S1"
    assert stair_flight_length(2.9)[0] == pytest.approx(6.394, abs=1e-3)  # run 4.309 m, slope 5.194 m + 1.2 m
    # a route from level 5 pays 5 storeys of stair
    p = route(g, "B01-L05-U01", "B01-E1")
    assert sum(1 for a, b in zip(p, p[1:]) if g.edges[a, b]["kind"] == "stair") == 5


def test_stairs_respect_level_range() -> None:
    site = walkup_site(1, storeys=6)
    site.buildings[0].stairs[0].highest_level = 3
    g = build_nav_graph(site, check=False)
    assert "B01-S1-L03" in g and "B01-S1-L04" not in g
    with pytest.raises(SiteError, match="B01-L04-U01"):
        check_connectivity(g)


def test_blocking_one_of_two_stairs_reroutes() -> None:
    g = build_nav_graph(highrise_site())
    src = "H1-L10-U01"
    p0 = route(g, src, "exit")
    used = {g.edges[a, b]["stair"] for a, b in zip(p0, p0[1:]) if g.edges[a, b]["kind"] == "stair"}
    assert len(used) == 1
    (first,) = used
    other = "H1-S2" if first == "H1-S1" else "H1-S1"
    p1 = route(g, src, "exit", blocked={first})
    used1 = {g.edges[a, b]["stair"] for a, b in zip(p1, p1[1:]) if g.edges[a, b]["kind"] == "stair"}
    assert used1 == {other}
    # blocking an exit node sends people to the other exit
    p2 = route(g, src, "exit", blocked={p0[-1]})
    assert p2[-1] != p0[-1]
    with pytest.raises(ValueError, match="not in the graph"):
        route(g, src, "exit", blocked={"H1-S9"})


def test_blocking_the_only_stair_cuts_off_upper_units() -> None:
    g = build_nav_graph(walkup_site(1))
    with pytest.raises(SiteError) as err:
        check_connectivity(g, blocked={"B01-S1"})
    msg = str(err.value)
    assert "B01-L01-U01" in msg and "B01-L05-U02" in msg
    assert "B01-L00-U01" not in msg  # ground-floor flats still walk out
    assert "10 unit(s)" in msg
    with pytest.raises(nx.NetworkXNoPath):
        route(g, "B01-L03-U01", "assembly", blocked={"B01-S1"})


def test_site_without_route_to_outside_raises() -> None:
    site = walkup_site(1)
    site.ways = [Way("W9", LineString([(100, 100), (110, 100)]), 2.0)]
    site.gates, site.open_spaces = [], []
    with pytest.raises(SiteError, match="cannot reach a gate or assembly point"):
        build_nav_graph(site)


def test_way_noding_and_snap() -> None:
    g = build_nav_graph(walkup_site(1))
    # W2 starts on W1 (T junction) and W3 ends 0.5 m from W1: both joined
    w3 = [(u, v) for u, v, d in g.edges(data=True) if d.get("way") == "W3"]
    assert any(g.edges[e]["length_m"] == pytest.approx(0.5) for e in w3)
    assert nx.is_connected(g)
    # W1 total length is preserved by its pieces
    assert sum(d["length_m"] for _, _, d in g.edges(data=True) if d.get("way") == "W1") == pytest.approx(80.0)
    assert g.nodes["A1"]["kind"] == "assembly" and g.nodes["G1"]["kind"] == "gate"


def test_garage_basement_and_ramp_exit() -> None:
    hr = highrise_site().buildings[0]
    garage = Building("P1", box(0, -18, 36, -4), use=BuildingUse.GARAGE, storeys=0, basement_levels=1,
                      storey_height_m=3.8,
                      stairs=[StairCore("P1-S1", "P1", Point(5, -10), lowest_level=-1, highest_level=0)],
                      exits=[BuildingExit("P1-E1", "P1", Point(5, -4.5), level=0),
                             BuildingExit("P1-E2", "P1", Point(36, -11), width_m=6.0, level=-1)])
    ramp = Way("RAMP", LineString([(36, -11), (40, -11)]), 6.0, kind="ramp")
    site = _outdoor([hr, garage], extra_ways=[ramp])
    g = build_nav_graph(site)
    assert g.nodes["P1-L-1-C"]["kind"] == "corridor"
    assert g.has_edge("P1-L-1-C", "P1-S1-L-1")
    assert g.has_edge("P1-S1-L-1", "P1-S1-L00") and g.has_edge("P1-S1-L00", "P1-E1")
    (nbr,) = [n for n in g.neighbors("P1-E2") if g.nodes[n]["kind"] == "path"]
    assert any(d.get("way") == "RAMP" for _, _, d in g.edges(nbr, data=True))
    # the high-rise basement is an open floor joined to both stairs
    assert g.has_edge("H1-L-1-C", "H1-S1-L-1") and g.has_edge("H1-L-1-C", "H1-S2-L-1")
    assert route(g, "P1-L-1-C", "gate")[-1] == "G1"


def test_nearest_exit_routes_and_summary() -> None:
    g = build_nav_graph(highrise_site())
    r = nearest_exit_routes(g)
    assert len(r) == 12 * 6
    for src, rt in r.items():
        assert rt.path[0] == src and g.nodes[rt.target]["kind"] == "exit"
        assert rt.length_m == pytest.approx(nx.shortest_path_length(g, src, rt.target, weight="length_m"))
    s = graph_summary(g)
    assert s["nodes_by_kind"]["unit"] == 72 and s["edges_by_kind"]["stair"] == 2 * 12
    assert s["levels"] == [-1, 11] and s["components"] == 1


def test_sample_community_graph() -> None:
    sample = pytest.importorskip("geometry.sample")
    site = sample.sample_community()
    t0 = time.perf_counter()
    g = build_nav_graph(site)
    dt = time.perf_counter() - t0
    s = graph_summary(g)
    print(f"\nsample nav graph: {s['nodes']} nodes, {s['edges']} edges, built in {dt:.2f} s; {s['nodes_by_kind']}")
    assert s["nodes_by_kind"]["unit"] == site.households
    routes = nearest_exit_routes(g, targets="assembly")
    assert set(routes) == {n for n, k in g.nodes(data="kind") if k == "unit"}
    assert all(g.nodes[r.target]["kind"] == "assembly" for r in routes.values())


def test_closed_loop_way_is_a_cycle() -> None:
    """A closed way (ring road) must close in the graph: its start and end are one junction
    (review fix; before, the loop was an open chain with two nodes at the same point)."""
    from shapely.geometry import box

    from geometry.navgraph import build_nav_graph, nearest_exit_routes
    from geometry.site import Building, BuildingExit, BuildingUse, Gate, Site, Way

    b = Building("B1", box(0, 0, 10, 10), use=BuildingUse.OTHER, storeys=1,
                 exits=[BuildingExit("B1-E1", "B1", Point(5, 0))])
    loop = LineString([(-5, -5), (15, -5), (15, 15), (-5, 15), (-5, -5)])
    # the gate attaches 1 m before the loop's end point; the exit 10 m after its start point
    site = Site("t", box(-20, -20, 30, 30), buildings=[b], ways=[Way("W1", loop, 2.0)],
                gates=[Gate("G1", Point(-20, -4))])
    g = build_nav_graph(site, check=False)
    r = nearest_exit_routes(g, sources=["G1"], targets="B1-E1")["G1"]
    assert r.length_m == pytest.approx(15 + 1 + 10 + 5)  # not 15 + 69 + 5 the long way round
