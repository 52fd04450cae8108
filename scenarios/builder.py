"""Assemble a :class:`~twin.core.Twin` from a :class:`~scenarios.schema.Scenario`.

The builder resolves the site (built-in sample or a file), checks every reference the scenario
makes into it (buildings, stairs, exits, gates), draws the population from the run's seed,
wires the components and schedules the alarm and the injects. Problems are reported as
:class:`~scenarios.loader.ScenarioError` naming the scenario field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from agents.crowd_evacuation import CrowdEvacuation, CrowdEvacuationSettings
from agents.flow_evacuation import FlowEvacuation, RouteTargetError
from agents.population import (
    HouseholdPopulation,
    default_premovement_median_s,
    synthesize_households,
)
from geometry.site import CameraSpec, Device, DeviceKind, Site, SiteError
from scenarios.loader import ScenarioError
from scenarios.schema import FreeGeometry, Scenario, SiteRef
from twin.core import Twin
from twin.events import (
    AlarmCleared,
    AlarmRaised,
    Event,
    InjectApplied,
    RouteBlocked,
    RouteReopened,
)
from twin.seeding import replication_seeds

__all__ = ["BuiltRun", "build_run", "load_site_ref", "site_with_interventions"]


@dataclass
class BuiltRun:
    """A twin ready to run, with what it was built from."""

    scenario: Scenario
    twin: Twin
    site: Site | None
    graph: nx.Graph | None
    replication: int
    seed_entropy: int
    population: HouseholdPopulation | None = None
    rasters: dict[int, Any] = field(default_factory=dict)
    components: dict[str, Any] = field(default_factory=dict)
    base_dir: Path = Path(".")


def load_site_ref(ref: SiteRef, *, base_dir: Path) -> Site:
    """The site a scenario names: the built-in sample or a file (by its extension)."""
    if ref.sample:
        from geometry.sample import sample_community

        return sample_community(seed=ref.sample_seed)
    assert ref.file is not None
    path = Path(ref.file)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise ScenarioError([f"field 'site.file': {path} not found"])
    return read_any_site(path)


def read_any_site(path: Path, *, default_use: str | None = None) -> Site:
    """Read a site file of any supported format, chosen by its name (``.osm``, ``.city.json``
    or a JSON whose ``type`` is ``CityJSON``, else GeoJSON / GeoPackage). ``default_use`` is
    passed to the OSM and CityJSON importers for buildings whose tags say nothing more."""
    import json

    name = path.name.lower()
    kw = {} if default_use is None else {"default_use": default_use}
    cityjson = name.endswith((".city.json", ".cityjson"))
    if not cityjson and name.endswith(".json"):
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            head = None
        cityjson = isinstance(head, dict) and head.get("type") == "CityJSON"
    if name.endswith(".osm"):
        from geometry.osm import import_osm

        return import_osm(path, **kw)
    if cityjson:
        from geometry.cityjson import import_cityjson

        return import_cityjson(path, **kw)
    from geometry.io import read_site

    return read_site(path)


def build_run(
    scenario: Scenario,
    *,
    base_dir: Path | str = ".",
    replication: int = 0,
    realtime: bool = False,
    speed: float = 1.0,
) -> BuiltRun:
    """Build replication ``replication`` of ``scenario``. Seeds: one ``SeedSequence`` from
    ``scenario.seed``, spawned per replication; components draw named streams from it."""
    if not 0 <= replication < scenario.replications:
        raise ScenarioError([f"replication {replication} is outside 0..{scenario.replications - 1}"])
    seq = replication_seeds(scenario.seed, scenario.replications)[replication]
    base = Path(base_dir)
    site = site_with_interventions(scenario, base_dir=base) if scenario.site is not None else None
    _check_unsupported(scenario)
    snapshot_every = scenario.outputs.snapshot_every_s if scenario.outputs.fields else None
    twin = Twin(site, dt=scenario.dt_s, seed=seq, realtime=realtime, speed=speed, snapshot_every_s=snapshot_every)
    run = BuiltRun(scenario=scenario, twin=twin, site=site, graph=None, replication=replication,
                   seed_entropy=int(scenario.seed), base_dir=base)
    if scenario.geometry is not None:
        run.rasters = _free_rasters(scenario.geometry)
        if scenario.hazards:
            raise ScenarioError(["field 'hazards': fire needs a site (buildings and their compartments); "
                                 "free-form geometry carries none"])
        if scenario.evacuation is not None:
            raise ScenarioError([
                "field 'evacuation': free-form geometry has no navigation graph for the network-flow model; "
                "set 'evacuation: null' (the crowd model that walks free-form geometry is a separate component)"
            ])
    if site is not None:
        from geometry.navgraph import build_nav_graph

        run.graph = build_nav_graph(site)
        _check_references(scenario, site, run.graph)
        if any(h.type == "fire" for h in scenario.hazards):
            _add_fire(run)
        if any(h.type == "flood" for h in scenario.hazards):
            _add_flood(run)
            _add_population(run)
        if scenario.evacuation is not None:
            _add_evacuation(run)
    _schedule(run)
    return run


# ----------------------------------------------------------------------------- pieces
def _check_unsupported(scenario: Scenario) -> None:
    problems = []
    floods = [k for k, h in enumerate(scenario.hazards) if h.type == "flood"]
    if len(floods) > 1:
        problems.append(f"field 'hazards.{floods[1]}': one flood per scenario (its storm covers the whole estate)")
    for k, _ in enumerate(scenario.interventions.patrols):
        problems.append(f"field 'interventions.patrols.{k}': patrol simulation is not part of this version yet")
    if scenario.interventions.plans and (scenario.evacuation is None or scenario.evacuation.model != "crowd"):
        problems.append("field 'interventions.plans': an evacuation plan routes people in the crowd model; "
                        "set 'evacuation: {model: crowd}'")
    if problems:
        raise ScenarioError(problems)


def site_with_interventions(scenario: Scenario, *, base_dir: Path) -> Site:
    """The scenario's site with its camera interventions added, validated."""
    assert scenario.site is not None
    site = load_site_ref(scenario.site, base_dir=base_dir)
    _add_interventions(site, scenario, base_dir=base_dir)
    try:
        site.validate()
    except SiteError as exc:
        raise ScenarioError([f"site: {p}" for p in exc.problems]) from None
    return site


def _read_plan_geojson(fld: str, name: str, *, base_dir: Path, kind: str) -> tuple[Path, list[dict[str, Any]]]:
    """The features of a plan GeoJSON written by ``shoumen optimize`` (``shoumen.kind`` = ``kind``)."""
    import json

    path = Path(name)
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        raise ScenarioError([f"field '{fld}': {path} not found"])
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"field '{fld}': {path} is not JSON ({exc})"]) from None
    got = (doc.get("shoumen") or {}).get("kind") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or got != kind:
        raise ScenarioError([f"field '{fld}': {path} is not a {kind} GeoJSON written by 'shoumen optimize' "
                             f"(expected a FeatureCollection with shoumen.kind = {kind!r}, got {got!r})"])
    feats = doc.get("features")
    if not isinstance(feats, list):
        raise ScenarioError([f"field '{fld}': {path}: 'features' must be a list"])
    return path, feats


def _camera_plan_rows(scenario: Scenario, base_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for k, name in enumerate(scenario.interventions.camera_plans):
        fld = f"interventions.camera_plans.{k}"
        path, feats = _read_plan_geojson(fld, name, base_dir=base_dir, kind="camera_plan")
        for i, f in enumerate(feats):
            geom = (f or {}).get("geometry") or {}
            props = dict((f or {}).get("properties") or {})
            where = f"field '{fld}': {path.name} feature {i}"
            if geom.get("type") != "Point" or len(geom.get("coordinates") or []) < 2:
                raise ScenarioError([f"{where}: geometry must be a Point, got {geom.get('type')!r}"])
            x, y = geom["coordinates"][:2]
            cam = {"id": props.get("id", f"plan{k}-cam{i}"), "x": x, "y": y}
            for key in ("mount_height_m", "yaw_deg", "fov_deg", "range_m", "model"):
                if key in props:
                    cam[key] = props[key]
            rows.append((where, cam))
    return rows


def _add_interventions(site: Site, scenario: Scenario, *, base_dir: Path = Path(".")) -> None:
    """Extra cameras from the scenario (``cameras`` and the cameras of ``camera_plans``) become
    devices of the site (validated with it)."""
    rows = [(f"field 'interventions.cameras.{k}'", cam) for k, cam in enumerate(scenario.interventions.cameras)]
    rows += _camera_plan_rows(scenario, base_dir)
    for where, cam in rows:
        try:
            from shapely.geometry import Point

            site.devices.append(Device(
                id=str(cam["id"]),
                kind=DeviceKind.CAMERA,
                position=Point(float(cam["x"]), float(cam["y"])),
                camera=CameraSpec(
                    mount_height_m=float(cam.get("mount_height_m", 3.5)),
                    yaw_deg=float(cam.get("yaw_deg", 0.0)),
                    fov_deg=float(cam.get("fov_deg", 90.0)),
                    range_m=float(cam.get("range_m", 30.0)),
                    **({"model": str(cam["model"])} if "model" in cam else {}),
                ),
            ))
        except KeyError as exc:
            raise ScenarioError([f"{where}: missing key {exc.args[0]!r} (expected id, x, y)"]) from None
        except (TypeError, ValueError) as exc:
            raise ScenarioError([f"{where}: {exc}"]) from None


def _check_references(scenario: Scenario, site: Site, graph: nx.Graph) -> None:
    building_ids = [b.id for b in site.buildings]
    stair_ids = {s.id for s in site.iter_stairs()}
    problems: list[str] = []

    def need_building(fld: str, bid: str) -> None:
        if bid not in building_ids:
            problems.append(f"field '{fld}': building {bid!r} does not exist in site {site.name!r}"
                            f" (buildings: {', '.join(building_ids[:8])}{' ...' if len(building_ids) > 8 else ''})")

    if scenario.alarm is not None:
        for k, b in enumerate(scenario.alarm.buildings):
            need_building(f"alarm.buildings.{k}", b)
    if scenario.population.buildings != "all":
        for k, b in enumerate(scenario.population.buildings):
            need_building(f"population.buildings.{k}", b)
    for k, inj in enumerate(scenario.injects):
        if inj.action in ("block", "reopen"):
            crowd = scenario.evacuation is not None and scenario.evacuation.model == "crowd"
            if not crowd and inj.target not in stair_ids and inj.target not in graph:  # crowd: checked on build
                problems.append(f"field 'injects.{k}.target': {inj.target!r} is not a stair, exit, gate or node of the site")
        elif inj.target != "estate":
            need_building(f"injects.{k}.target", inj.target)
    if scenario.evacuation is not None:
        targets = _targets(scenario, site)
        if not targets:
            kind = "assembly points" if scenario.evacuation.targets == "assembly" else "gates"
            problems.append(f"field 'evacuation.targets': the site has no {kind}")
    if problems:
        raise ScenarioError(problems)


def _targets(scenario: Scenario, site: Site) -> list[str]:
    assert scenario.evacuation is not None
    if scenario.evacuation.targets == "assembly":
        return [o.id for o in site.assembly_points]
    return [g.id for g in site.gates if g.kind != "vehicle"] or [g.id for g in site.gates]


_FIRE_PARAMS = {"growth", "peak_kw", "fuel", "steady_s", "decay_s", "area_m2"}
#: Settings of the fire component (the same for every fire of a scenario).
_FIRE_SETTINGS = {"alarm", "phone_delay_s", "spread", "window_break_c", "wind_speed_m_s", "wind_from_deg",
                  "lowrise_fire_resistant", "lowrise_bare_wood", "lowrise_mortar_wood"}


def _add_fire(run: BuiltRun) -> None:
    """Fire hazards -> a :class:`twin.fire.component.FireComponent` (added before the crowd, so
    each tick moves the smoke first). A fire burns in ``unit`` (any compartment id: a flat or
    room, a stair shaft ``B12-S1``, an open storey ``P01-L-1``), else in the corridor of
    ``building`` / ``level``; ``params``: growth (slow/medium/fast/ultrafast or
    alpha in kW/s²), peak_kw, fuel, steady_s, decay_s, area_m2; and the settings every fire of
    the scenario shares: ``alarm`` (building / local / phone), ``phone_delay_s``, ``spread``
    (on / off), ``window_break_c``, ``wind_speed_m_s``, ``wind_from_deg`` and Hamada's stock
    shares of the low-rise buildings (<= 3 storeys) ``lowrise_fire_resistant``,
    ``lowrise_bare_wood``, ``lowrise_mortar_wood``."""
    from twin.fire.component import FireComponent
    from twin.fire.sources import FireSource
    from twin.fire.spread import HamadaShares, SpreadRules

    scenario, site = run.scenario, run.site
    assert site is not None
    fires, problems = [], []
    settings: dict[str, float | str] = {}
    for k, h in enumerate(scenario.hazards):
        if h.type != "fire":
            continue
        where = f"field 'hazards.{k}"
        unknown = sorted(set(h.params) - _FIRE_PARAMS - _FIRE_SETTINGS)
        if unknown:
            problems.append(f"{where}.params': unknown key(s) {', '.join(unknown)}; expected some of "
                            f"{', '.join(sorted(_FIRE_PARAMS | _FIRE_SETTINGS))}")
            continue
        for key in sorted(set(h.params) & _FIRE_SETTINGS):
            if key in settings and settings[key] != h.params[key]:
                problems.append(f"{where}.params.{key}': {h.params[key]!r} differs from {settings[key]!r} given "
                                "for an earlier fire; the setting is the same for every fire of a scenario")
            settings.setdefault(key, h.params[key])
        if h.unit:
            comp = h.unit
        elif h.building is not None and h.level is not None:
            comp = f"{h.building}-L{h.level:02d}-C"
        else:
            problems.append(f"{where}': give 'unit' (a flat or room id) or 'building' and 'level' (its corridor)")
            continue
        p = {kk: v for kk, v in h.params.items() if kk in _FIRE_PARAMS}
        growth = p.pop("growth", "medium")
        try:
            fires.append(FireSource(comp, growth if isinstance(growth, str) else float(growth),
                                    float(p.pop("peak_kw", 2000.0)), t_ignition_s=h.at_s,
                                    **{kk: (float(v) if kk != "fuel" else str(v)) for kk, v in p.items()}))
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(f"{where}.params': {exc}")
    kw: dict[str, Any] = {}
    try:
        if "alarm" in settings:
            kw["alarm"] = str(settings["alarm"])
        if "phone_delay_s" in settings:
            kw["phone_delay_s"] = float(settings["phone_delay_s"])
        rule_kw: dict[str, Any] = {k: float(settings[k]) for k in ("window_break_c", "wind_speed_m_s", "wind_from_deg")
                                   if k in settings}
        spread = str(settings.get("spread", "on")).lower()
        if spread not in ("on", "off"):
            problems.append(f"field 'hazards.*.params.spread': {settings['spread']!r}; expected 'on' or 'off'")
        rule_kw["enabled"] = spread == "on"
        stock = {k: float(settings[f"lowrise_{k}"]) for k in ("fire_resistant", "bare_wood", "mortar_wood")
                 if f"lowrise_{k}" in settings}
        if stock:
            shares = HamadaShares(**stock)
            rule_kw["shares"] = {b.id: shares for b in site.buildings if b.storeys <= 3}
        kw["spread"] = SpreadRules(**rule_kw)
    except (ValueError, TypeError) as exc:
        problems.append(f"field 'hazards.*.params': {exc}")
    if problems:
        raise ScenarioError(problems)
    try:
        comp_ = FireComponent(site, fires, **kw)
    except (ValueError, KeyError, SiteError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ScenarioError([f"field 'hazards': {msg}"]) from None
    run.components["fire"] = run.twin.add(comp_)


_FLOOD_PARAMS = {"storm", "rain_mm_h", "rain_step_s", "drainage_mm_h", "solver", "cell_size_m", "boundaries",
                 "record_every_s", "points"}


def _add_flood(run: BuiltRun) -> None:
    """A flood hazard -> a :class:`twin.flood.component.FloodComponent`. ``params``: ``storm``
    (``zhengzhou``: the built-in Zhengzhou-like 3-hour storm) or ``rain_mm_h`` (comma-separated
    intensities, one per ``rain_step_s`` block, default 600 s); ``drainage_mm_h`` (default 45, a
    3-year design capacity); ``solver`` (inertial | fv); ``cell_size_m`` (default 2);
    ``boundaries`` (open | closed); ``record_every_s`` (default 60); ``points``: where to record
    the depth over time, ``"name x y; name x y"`` (site metres). The storm starts at the
    hazard's ``at_s``... which must be 0 (the flood runs from the start of the scenario)."""
    from twin.flood.component import FloodComponent, Rainstorm, hyetograph_from, zhengzhou_like_storm

    scenario, site = run.scenario, run.site
    assert site is not None
    k, h = next((k, h) for k, h in enumerate(scenario.hazards) if h.type == "flood")
    where = f"field 'hazards.{k}"
    problems: list[str] = []
    unknown = sorted(set(h.params) - _FLOOD_PARAMS)
    if unknown:
        problems.append(f"{where}.params': unknown key(s) {', '.join(unknown)}; expected some of "
                        f"{', '.join(sorted(_FLOOD_PARAMS))}")
    if h.at_s != 0:
        problems.append(f"{where}.at_s': a flood's storm starts with the scenario; expected 0, got {h.at_s:g}")
    if h.building or h.unit or h.level is not None:
        problems.append(f"{where}': a flood covers the estate; remove 'building', 'level' and 'unit'")
    p = dict(h.params)
    try:
        drainage = float(p.get("drainage_mm_h", 45.0))
        if "rain_mm_h" in p:
            if "storm" in p:
                problems.append(f"{where}.params': give 'storm' or 'rain_mm_h', not both")
            vals = [float(v) for v in str(p["rain_mm_h"]).replace(";", ",").split(",") if v.strip()]
            times, rain = hyetograph_from(vals, step_s=float(p.get("rain_step_s", 600.0)))
            storm = Rainstorm(times_s=times, rain_mm_h=rain, drainage_mm_h=drainage)
        else:
            name = str(p.get("storm", "zhengzhou"))
            if name != "zhengzhou":
                raise ValueError(f"storm {name!r}: expected 'zhengzhou' (or give rain_mm_h)")
            storm = zhengzhou_like_storm(drainage_mm_h=drainage)
        pts: dict[str, tuple[float, float]] = {}
        for item in str(p.get("points", "")).split(";"):
            if not item.strip():
                continue
            parts = item.split()
            if len(parts) != 3:
                raise ValueError(f"points: {item.strip()!r}; expected 'name x y' items separated by ';'")
            pts[parts[0]] = (float(parts[1]), float(parts[2]))
        kw = {"points": pts, "solver": str(p.get("solver", "inertial")), "cell_size_m": float(p.get("cell_size_m", 2.0)),
              "boundaries": str(p.get("boundaries", "open")), "record_every_s": float(p.get("record_every_s", 60.0))}
    except (ValueError, TypeError) as exc:
        problems.append(f"{where}.params': {exc}")
        raise ScenarioError(problems) from None
    if problems:
        raise ScenarioError(problems)
    try:
        comp = FloodComponent(site, storm, **kw)
    except (ValueError, SiteError) as exc:
        raise ScenarioError([f"{where}.params': {exc}"]) from None
    run.components["flood"] = run.twin.add(comp)


def _add_population(run: BuiltRun) -> None:
    """The residents at home (households per flat) for the evacuation and the flood's people at risk."""
    scenario, site = run.scenario, run.site
    assert site is not None
    pop = scenario.population
    wanted = None if pop.buildings == "all" else set(pop.buildings)
    units = [
        (u, b.id)
        for b in site.buildings
        if b.use.residential and (wanted is None or b.id in wanted)
        for level in range(b.storeys)
        for u in b.unit_ids(level)
    ]
    if pop.premovement.median_s is None:
        median = default_premovement_median_s(pop.hour)
        if median <= pop.premovement.min_s:
            raise ScenarioError([
                f"field 'population.premovement.min_s': {pop.premovement.min_s:g} s is not below the default "
                f"median pre-movement time at {pop.time_of_day} ({median:g} s); lower it or set 'median_s'"
            ])
    run.population = synthesize_households(
        units,
        rng=run.twin.rng("population"),
        residents_per_household=pop.residents_per_household,
        hour=pop.hour,
        at_home=pop.at_home_fraction,
        premovement_median_s=pop.premovement.median_s,
        premovement_sigma=pop.premovement.sigma,
        premovement_min_s=pop.premovement.min_s,
    )


def _add_evacuation(run: BuiltRun) -> None:
    scenario, site, graph = run.scenario, run.site, run.graph
    assert site is not None and graph is not None
    if run.population is None:
        _add_population(run)
    pop = scenario.population
    ev = scenario.evacuation
    assert ev is not None
    if ev.model == "crowd":
        settings = CrowdEvacuationSettings(dt=ev.step_s, exit_choice=ev.exit_choice,
                                           assistance_delay_s=ev.assistance_delay_s)
        try:
            crowd = CrowdEvacuation(site, run.population, targets=_targets(scenario, site), settings=settings,
                                    rng=run.twin.rng("crowd"))
        except (ValueError, SiteError) as exc:
            raise ScenarioError([f"field 'evacuation': {exc}"]) from None
        known = crowd.route_targets()
        bad = [f"field 'injects.{k}.target': {inj.target!r} is no stair, landing or exit of an occupied building "
               "and no evacuation target (the crowd model can block only those)"
               for k, inj in enumerate(scenario.injects) if inj.action in ("block", "reopen") and inj.target not in known]
        if bad:
            raise ScenarioError(bad)
        _apply_plans(run, crowd)
        run.components["evacuation"] = run.twin.add(crowd)
        return
    try:
        comp = FlowEvacuation(graph, run.population, targets=_targets(scenario, site))
    except RouteTargetError as exc:
        raise ScenarioError([f"field 'evacuation': {exc}"]) from None
    run.components["evacuation"] = run.twin.add(comp)


def _apply_plans(run: BuiltRun, crowd: CrowdEvacuation) -> None:
    """Evacuation plans (``interventions.plans``, GeoJSON of ``shoumen optimize plan``): each
    feature's ``group`` (a building id, or a walk-up stair id) leaves by ``exit`` and walks to
    ``target`` (null: the person's own choice) via :meth:`CrowdEvacuation.assign_route`."""
    import numpy as np

    scenario, site, graph = run.scenario, run.site, run.graph
    assert site is not None and graph is not None
    buildings = {b.id: b for b in site.buildings}
    for k, name in enumerate(scenario.interventions.plans):
        fld = f"interventions.plans.{k}"
        path, feats = _read_plan_geojson(fld, name, base_dir=run.base_dir, kind="evacuation_plan")
        problems: list[str] = []
        for i, f in enumerate(feats):
            props = dict((f or {}).get("properties") or {})
            where = f"field '{fld}': {path.name} feature {i}"
            key, e, t = props.get("group"), props.get("exit"), props.get("target")
            if not isinstance(key, str):
                problems.append(f"{where}: property 'group' must be a building or stair id, got {key!r}")
                continue
            if key in buildings:
                who = np.flatnonzero(crowd.person_building == key)
                b = buildings[key]
            else:
                units = {u for u, d in graph.nodes(data=True) if d.get("kind") in ("unit", "room")
                         and d.get("stair") == key}
                if not units:
                    problems.append(f"{where}: group {key!r} is no building or stair of the site")
                    continue
                who = np.flatnonzero(np.isin(crowd.person_unit, sorted(units)))
                b = buildings[str(graph.nodes[next(iter(units))].get("building"))]
            if e is not None and e not in {x.id for x in b.exits}:
                problems.append(f"{where}: exit {e!r} is no exit of building {b.id}; known: "
                                f"{', '.join(x.id for x in b.exits)}")
                continue
            if t is not None and t not in crowd.targets:
                problems.append(f"{where}: target {t!r} is no evacuation target; known: {', '.join(crowd.targets)}")
                continue
            if who.size:
                crowd.assign_route(who, exit_id=e, target=t)
        if problems:
            raise ScenarioError(problems)


def _schedule(run: BuiltRun) -> None:
    scenario, twin = run.scenario, run.twin
    alarm = scenario.alarm
    if alarm is not None:
        if alarm.scope == "estate":
            twin.schedule(AlarmRaised(t=alarm.at_s, source="inject", level="estate", severity=alarm.severity,
                                      reason=alarm.reason, building=None), at=alarm.at_s)
        else:
            for b in alarm.buildings:
                twin.schedule(AlarmRaised(t=alarm.at_s, source="inject", level="building", severity=alarm.severity,
                                          reason=alarm.reason, building=b), at=alarm.at_s)
    for inj in scenario.injects:
        events: list[Event] = [InjectApplied(t=inj.at_s, source="inject", action=inj.action, target=inj.target,
                                             detail=inj.detail)]
        if inj.action == "block":
            events.append(RouteBlocked(t=inj.at_s, source="inject", target=inj.target))
        elif inj.action == "reopen":
            events.append(RouteReopened(t=inj.at_s, source="inject", target=inj.target))
        elif inj.action == "alarm":
            estate = inj.target == "estate"
            events.append(AlarmRaised(t=inj.at_s, source="inject", level="estate" if estate else "building",
                                      severity="red", reason=inj.detail or "inject",
                                      building=None if estate else inj.target))
        else:
            events.append(AlarmCleared(t=inj.at_s, source="inject", subject=inj.target, reason=inj.detail or "inject"))
        for ev in events:
            twin.schedule(ev, at=inj.at_s)


def _free_rasters(geom: FreeGeometry) -> dict[int, Any]:
    """Walkable rasters of free-form levels: wall lines and obstacle polygons blocked, doors
    opened through the walls, exit doors marked."""
    from shapely.geometry import LineString, Polygon

    from geometry.raster import rasterize_polygons

    out: dict[int, Any] = {}
    for k, lv in enumerate(geom.levels):
        walk = [Polygon(r) for r in lv.walkable]
        bad = [i for i, p in enumerate(walk) if not p.is_valid]
        if bad:
            raise ScenarioError([f"field 'geometry.levels.{k}.walkable.{bad[0]}': polygon is not valid (self-intersecting?)"])
        obstacles = [Polygon(r) for r in lv.obstacles] + [LineString(w) for w in lv.walls if len(w) >= 2]
        out[lv.level] = rasterize_polygons(
            walk,
            obstacles=obstacles,
            openings=[LineString([d.a, d.b]) for d in lv.doors if not d.exit],
            exits=[LineString([d.a, d.b]) for d in lv.doors if d.exit],
            cell_size_m=geom.cell_size_m,
            level=lv.level,
        )
    return out
