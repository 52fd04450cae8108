"""OpenStreetMap import (geometry.osm): tag rules, projection, synthesis and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import Transformer

from geometry.io import read_site, write_site
from geometry.osm import import_osm, parse_length, utm_crs_for
from geometry.site import BuildingUse, SiteError

DATA = Path("/work/shared/data/sites")
LAT0, LON0 = 39.9, 116.4  # Beijing: UTM zone 50N
M_LAT = 1 / 111_000.0  # degrees per metre (approx.)


def _node(nid: int, dx: float, dy: float, tags: dict[str, str] | None = None, *, lat0: float = LAT0) -> str:
    import math

    lat = lat0 + dy * M_LAT
    lon = LON0 + dx * M_LAT / math.cos(math.radians(lat0))
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
    return f'<node id="{nid}" lat="{lat:.8f}" lon="{lon:.8f}">{inner}</node>'


def _way(wid: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{wid}">{nds}{inner}</way>'


def _box(first_id: int, x: float, y: float, w: float, h: float) -> tuple[list[str], list[int]]:
    pts = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    nodes = [_node(first_id + k, px, py) for k, (px, py) in enumerate(pts)]
    ids = [first_id + k for k in range(4)]
    return nodes, ids + [ids[0]]


def _osm(tmp_path: Path, body: list[str], name: str = "t.osm") -> Path:
    path = tmp_path / name
    path.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + "\n".join(body) + "\n</osm>\n")
    return path


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    body: list[str] = []
    specs = [
        (500, 0, 0, 20, 12, {"building": "apartments", "building:levels": "9", "name": "Tower"}),
        (100, 40, 0, 15, 10, {"building": "yes", "height": "12 m"}),
        (300, 0, 40, 10, 10, {"building": "house"}),
        (400, 40, 40, 12, 8, {"building": "garage", "building:levels:underground": "1"}),
        (200, 80, 0, 50, 30, {"building": "residential", "building:levels": "5"}),
    ]
    for wid, x, y, w, h, tags in specs:
        nodes, refs = _box(wid * 10, x, y, w, h)
        body += nodes
        body.append(_way(wid, refs, tags))
    body += [_node(9001, -10, -10), _node(9002, 140, -10), _node(9003, 140, 60), _node(9004, 60, -10)]
    body.append(_way(900, [9001, 9004, 9002], {"highway": "residential", "lanes": "2", "name": "South Road"}))
    body.append(_way(901, [9002, 9003], {"highway": "footway"}))
    body.append(_way(902, [9001, 9004], {"highway": "service", "width": "5.5 m"}))
    body.append(_node(7001, 142, 20, {"barrier": "gate", "access": "private", "name": "East gate"}))
    body.append(_node(7002, 30, 25, {"barrier": "gate"}))  # in the middle: dropped
    return _osm(tmp_path, body)


def test_buildings_storeys_and_uses(estate: Path) -> None:
    site = import_osm(estate)
    assert site.crs == "EPSG:32650"
    # ids in OSM id order: way 100, 200, 300, 400, 500
    by_name = {b.name: b for b in site.buildings}
    assert [b.id for b in site.buildings] == ["B01", "B02", "B03", "B04", "B05"]
    assert [b.name for b in site.buildings] == ["way/100", "way/200", "way/300", "way/400", "Tower"]
    tower = by_name["Tower"]
    assert tower.use == BuildingUse.HIGHRISE and tower.storeys == 9
    assert tower.households_per_storey == max(1, round(tower.footprint.area / 90))
    h12 = by_name["way/100"]
    assert h12.storeys == 4 and h12.use == BuildingUse.OTHER and h12.households_per_storey == 0
    assert h12.storey_height_m == pytest.approx(3.0)
    house = by_name["way/300"]
    assert house.storeys == 2
    garage = by_name["way/400"]
    assert garage.use == BuildingUse.GARAGE and garage.storeys == 1 and garage.basement_levels == 1
    big = by_name["way/200"]
    assert big.use == BuildingUse.WALKUP and big.footprint.area == pytest.approx(1500, rel=0.02)
    assert len(big.stairs) == 2  # footprint > 1000 m²
    assert big.stairs[0].position.distance(big.stairs[1].position) > 15
    assert len(tower.stairs) == 1 and len(h12.stairs) == 1 and len(garage.stairs) == 1
    for b in site.buildings:
        assert len(b.exits) == max(1, len(b.stairs)) and all(e.level == 0 for e in b.exits)
        assert all(b.footprint.exterior.distance(e.position) < 1e-6 for e in b.exits)
        for s in b.stairs:
            assert b.footprint.contains(s.position)
    # the tower's exit faces the south road (y = -10 m in the local frame)
    tower_exit = tower.exits[0].position
    assert tower_exit.y == pytest.approx(tower.footprint.bounds[1], abs=1e-6)


def test_projection_is_true_utm(estate: Path) -> None:
    site = import_osm(estate)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    x0, y0 = to_utm.transform(LON0, LAT0)
    tower = site.buildings[4]
    minx, miny, _, _ = tower.footprint.bounds
    assert minx == pytest.approx(x0, abs=0.5) and miny == pytest.approx(y0, abs=0.5)


def test_ways_gates_and_boundary(estate: Path) -> None:
    site = import_osm(estate)
    assert [(w.id, w.kind, w.name) for w in site.ways] == [
        ("W001", "road", "South Road"), ("W002", "walkway", "way/901"), ("W003", "road", "way/902")]
    assert site.ways[0].width_m == pytest.approx(6.5)
    assert site.ways[1].width_m == 2.0
    assert site.ways[2].width_m == 5.5
    assert len(site.gates) == 1
    g = site.gates[0]
    assert g.name == "East gate" and g.access == "card" and g.kind == "mixed"
    assert site.boundary.exterior.distance(g.position) <= 5.0
    for b in site.buildings:
        assert site.boundary.contains(b.footprint.buffer(4.9))


def test_default_use_residential(estate: Path) -> None:
    site = import_osm(estate, default_use="residential_walkup")
    assert site.buildings[0].use == BuildingUse.WALKUP and site.buildings[0].households_per_storey >= 1


def test_southern_hemisphere_zone(tmp_path: Path) -> None:
    _, refs = _box(10, 0, 0, 10, 10)
    body = [_node(10 + k, *xy, lat0=-33.8) for k, xy in enumerate([(0, 0), (10, 0), (10, 10), (0, 10)])]
    body.append(_way(1, refs, {"building": "yes"}))
    site = import_osm(_osm(tmp_path, body))
    assert site.crs == "EPSG:32750"
    assert utm_crs_for(-122.3, 37.8) == "EPSG:32610"


def test_multipolygon_relation(tmp_path: Path) -> None:
    nodes, outer = _box(10, 0, 0, 30, 30)
    inner_nodes, inner = _box(20, 10, 10, 10, 10)
    body = nodes + inner_nodes + [
        _way(1, outer, {}), _way(2, inner, {}),
        '<relation id="5"><member type="way" ref="1" role="outer"/><member type="way" ref="2" role="inner"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="apartments"/><tag k="building:levels" v="3"/></relation>',
        '<relation id="6"><member type="way" ref="99" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="yes"/></relation>',  # member missing: skipped
    ]
    site = import_osm(_osm(tmp_path, body))
    assert len(site.buildings) == 1
    b = site.buildings[0]
    assert b.name == "relation/5" and len(b.footprint.interiors) == 1
    assert b.footprint.area == pytest.approx(800, rel=0.02)


def test_parse_length() -> None:
    assert parse_length("12") == 12.0
    assert parse_length("12 m") == 12.0
    assert parse_length("12,5m") == 12.5
    assert parse_length("40 ft") == pytest.approx(12.192)
    assert parse_length("40'") == pytest.approx(12.192)
    assert parse_length("3;4") == 3.0
    assert parse_length("tall") is None and parse_length(None) is None


def test_real_files_import_and_round_trip(tmp_path: Path) -> None:
    for name, crs in [("West-Oakland.osm", "EPSG:32610"), ("munich-sample.osm", "EPSG:32632")]:
        site = import_osm(DATA / name)
        assert site.crs == crs and len(site.buildings) >= 20 and site.ways
        site.validate()
        for ext in ("geojson", "gpkg"):
            back = read_site(write_site(site, tmp_path / f"{name}.{ext}"))
            assert [b.id for b in back.buildings] == [b.id for b in site.buildings]
            assert all(a.footprint.equals_exact(b.footprint, 0) for a, b in zip(site.buildings, back.buildings))


# ------------------------------------------------------------------ bad input
def test_not_xml(tmp_path: Path) -> None:
    path = tmp_path / "bad.osm"
    path.write_text("<osm>\n  <node id='1' lat='1' lon='2'>\n</osm>\n")
    with pytest.raises(SiteError) as ei:
        import_osm(path)
    assert ei.value.source == str(path)
    assert "not valid XML at line 3, column" in str(ei.value)


def test_no_buildings(tmp_path: Path) -> None:
    path = _osm(tmp_path, [_node(1, 0, 0), _node(2, 10, 0), _way(1, [1, 2], {"highway": "footway"})], name="empty.osm")
    with pytest.raises(SiteError) as ei:
        import_osm(path)
    assert str(ei.value) == f"{path}: no buildings found (expected ways or relations tagged building=*)"


def test_missing_file_wrong_root_and_bad_node(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="nope.osm: file not found"):
        import_osm(tmp_path / "nope.osm")
    path = tmp_path / "x.osm"
    path.write_text("<gpx></gpx>")
    with pytest.raises(SiteError, match="root element is <gpx>, expected <osm>"):
        import_osm(path)
    path = _osm(tmp_path, ['<node id="7" lat="north" lon="2"/>'])
    with pytest.raises(SiteError, match="node 7: fields 'lat'/'lon' must be numbers"):
        import_osm(path)


def test_big_walkup_every_section_reaches_an_exit(estate: Path) -> None:
    """A walk-up over 1000 m² gets two stair cores; each section (单元) needs its own door, else
    the flats of the second section are cut off in the navigation graph (review fix)."""
    from geometry.navgraph import build_nav_graph, unreachable

    site = import_osm(estate)
    big = next(b for b in site.buildings if b.name == "way/200")
    assert len(big.stairs) == 2 and len(big.exits) == 2
    for e in big.exits:  # each exit is nearer to its own core than to the other
        d = sorted((s.position.distance(e.position), s.id) for s in big.stairs)
        assert d[0][1] == e.id.replace("-E", "-S")
    g = build_nav_graph(site, check=False)
    assert [u for u in unreachable(g, targets="exit") if u.startswith(big.id)] == []
