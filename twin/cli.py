"""``shoumen``: the command line of the Shoumen community-safety twin.

The face of the package: it may import everything (DESIGN.md, layout). Each sub-command's
``--help`` explains it with an example. Errors in the user's input print one short message per
problem (file, line or feature, field, what was expected) and exit with status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["main"]

EXIT_BAD_INPUT = 2

_DESCRIPTION = """\
Shoumen (守门) — a digital twin of a residential community for safety planning, drills and
live operation. Simulate evacuations (and, as they land, fires, floods and security incidents)
on a 3D model of an estate, and compare plans by their metrics.

Start with:  shoumen demo           (the built-in sample community, end to end)
"""

_EPILOG = """\
examples:
  shoumen demo --out results/demo
  shoumen run highrise-stair-blocked --out results/b03
  shoumen run my-scenario.yaml --out results/mine --replication 2
  shoumen scenarios
  shoumen site show sample
  shoumen site validate my-estate.gpkg
  shoumen site import ../shared/data/sites/munich-sample.osm --out munich.gpkg
  shoumen render sample --out sample.png --map sample-map.png
  shoumen optimize cameras daytime-drill --out results/cams
"""


# ----------------------------------------------------------------------------- helpers
def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _fail(message: str) -> int:
    print(f"shoumen: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _library_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "scenarios" / "library"


def _resolve_scenario_path(name: str) -> Path:
    p = Path(name)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    lib = _library_dir() / f"{name}.yaml"
    if lib.exists():
        return lib
    known = ", ".join(sorted(x.stem for x in _library_dir().glob("*.yaml")))
    raise FileNotFoundError(f"{name}: no such scenario file, and no library scenario of that name (library: {known})")


def _load_site_arg(arg: str) -> Any:
    from geometry.sample import sample_community
    from scenarios.builder import read_any_site

    if arg == "sample":
        return sample_community()
    path = Path(arg)
    if not path.is_file():
        raise FileNotFoundError(f"{arg}: file not found (give a site file, or 'sample' for the built-in community)")
    return read_any_site(path)


class _Progress:
    """A progress bar that appears only if the run lasts longer than a second."""

    def __init__(self, total_s: float, label: str) -> None:
        self.total, self.label = total_s, label
        self.started = time.perf_counter()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, t: float) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < 1.0:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                TextColumn("sim {task.completed:>7.0f} / {task.total:.0f} s"), TimeElapsedColumn(),
                                transient=False)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        self.bar.update(self.task, completed=t)

    def close(self, t: float | None = None) -> None:
        if self.bar is not None:
            if t is not None:
                self.bar.update(self.task, completed=t)
            self.bar.stop()


def _print_summary(result: Any, console: Any) -> None:
    from rich.table import Table

    m = result.metrics
    est = m["estate"]
    t = Table(title=f"{m['run']['scenario']} — {m['run']['site']} (seed {m['run']['seed']}, "
                    f"replication {m['run']['replication']})", show_lines=False)
    for col, just in (("building", "left"), ("occupants", "right"), ("evacuated", "right"),
                      ("first out s", "right"), ("RSET 95% s", "right"), ("RSET 100% s", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]

    def f(x: Any) -> str:
        return "—" if x is None else (f"{x:,.0f}" if isinstance(x, (int, float)) else str(x))

    for b, v in m["buildings"].items():
        t.add_row(b, f(v["occupants"]), f(v["evacuated"]), f(v["first_out_s"]), f(v["rset_95_s"]), f(v["rset_100_s"]))
    t.add_section()
    t.add_row("estate → targets", f(est["occupants"]), f(est["arrived"]), "", f(est["rset_95_s"]), f(est["rset_100_s"]),
              style="bold")
    if m["buildings"] or est["occupants"]:
        console.print(t)
    fl = m.get("flood")
    if fl:
        ft = Table(title=f"flood: {fl['storm']['total_mm']:.0f} mm of rain, drains {fl['storm']['drainage_mm_h']:g} mm/h, "
                         f"max depth {fl['max_depth_m']:.2f} m", show_header=False)
        for g, v in fl["garages"].items():
            ft.add_row(f"garage {g}", f"max {v['max_depth_m']:.2f} m; impassable to cars at {f(v['impassable_cars_s'])} s, "
                                      f"to people at {f(v['impassable_people_s'])} s")
        for r in fl["roads"][:8]:
            ft.add_row(f"road {r['road']}", f"closed to {r['vehicle']} at {f(r['closed_s'])} s, reopened {f(r['reopened_s'])}")
        ft.add_row("sensors fired", ", ".join(f"{d} {t_:.0f} s" for d, t_ in list(fl["sensors"].items())[:6]) or "none")
        ft.add_row("ground floors flooded", ", ".join(f"{b} {t_:.0f} s" for b, t_ in fl["ground_floors_flooded"].items())
                   or "none")
        pr = fl["people_at_risk"]
        ft.add_row("people at risk", f"{pr['people']} on flooded ground floors ({pr['elderly_living_alone']} elderly "
                                     "living alone, listed first in flood_people_at_risk.csv)")
        ft.add_row("volume check", f"relative error {fl['volumes_m3']['relative_error']:.1e}")
        console.print(ft)
    if m["bottlenecks"]:
        bt = Table(title="worst bottlenecks (queueing person-seconds)")
        for col in ("node", "kind", "max queue", "mean wait s", "person·s"):
            bt.add_column(col, justify="left" if col in ("node", "kind") else "right")
        for b in m["bottlenecks"][:5]:
            bt.add_row(b["node"], b["kind"], f(b["max_queue_persons"]), f(b["mean_wait_s"]), f(b["wait_person_s"]))
        console.print(bt)
    if est["not_evacuated"]:
        console.print(f"[yellow]{est['not_evacuated']} people had not reached a target when the run ended "
                      f"at {m['simulated_s']:.0f} s.[/yellow]")


def _write_pictures(result: Any, out: Path, *, console: Any) -> None:
    from viz.report import write_report

    scenario = result.built.scenario
    if result.built.site is not None and scenario.outputs.scene:
        from viz.scene3d import render_scene

        render_scene(result.built.site, out / "scene.png", title=f"{result.built.site.name} — {scenario.name}")
        fire = result.built.components.get("fire")
        if fire is not None:
            from viz.fire_pictures import render_smoke_scene

            render_smoke_scene(result.built.site, fire, out / "scene_smoke.png")
        flood = result.built.components.get("flood")
        if flood is not None:
            from viz.flood_pictures import render_flood_scene

            render_flood_scene(result.built.site, flood, out / "scene_flood.png")
    if result.built.site is not None and scenario.outputs.site_map:
        from viz.sitemap import plot_site_map

        plot_site_map(result.built.site, out / "site_map.png", title=result.built.site.name)
    write_report(out, metrics=result.metrics, events=result.events, scenario=scenario)
    console.print(f"results written to [bold]{out}[/bold]: " + ", ".join(sorted(p.name for p in out.iterdir())))


def _run_and_report(path: Path, out: Path, *, replication: int, seed: int | None, pictures: bool,
                    realtime: bool = False, speed: float = 1.0) -> int:
    from scenarios.loader import ScenarioError, load_scenario
    from scenarios.run import run_scenario

    console = _console()
    scenario = load_scenario(path)
    if seed is not None:
        if seed < 0:
            raise ScenarioError([f"--seed: expected a non-negative integer, got {seed}"])
        scenario = scenario.model_copy(update={"seed": seed})
    bar = _Progress(scenario.duration_s, scenario.name)
    try:
        result = run_scenario(scenario, out_dir=out, base_dir=path.parent, replication=replication, progress=bar,
                              realtime=realtime, speed=speed)
    except ScenarioError as exc:  # the builder names the field; add the file
        raise ScenarioError([f"{path}: {p}" for p in exc.problems]) from None
    finally:
        bar.close()
    _print_summary(result, console)
    console.print(f"run took {result.wall_s:.1f} s wall-clock for {result.metrics['simulated_s']:.0f} s simulated")
    if pictures:
        _write_pictures(result, out, console=console)
    return 0


# ----------------------------------------------------------------------------- commands
def _cmd_demo(args: argparse.Namespace) -> int:
    return _run_and_report(_library_dir() / "sample-evacuation.yaml", Path(args.out), replication=0,
                           seed=args.seed, pictures=not args.no_pictures)


def _cmd_run(args: argparse.Namespace) -> int:
    from scenarios.loader import ScenarioError

    if args.speed is not None and (args.speed <= 0 or not args.realtime):
        raise ScenarioError([f"--speed: expected a positive factor together with --realtime, got {args.speed}"])
    return _run_and_report(_resolve_scenario_path(args.scenario), Path(args.out), replication=args.replication,
                           seed=args.seed, pictures=not args.no_pictures, realtime=args.realtime,
                           speed=args.speed or 1.0)


def _cmd_scenarios(args: argparse.Namespace) -> int:
    import yaml
    from rich.table import Table

    t = Table(title="built-in scenarios (shoumen run NAME --out DIR)")
    t.add_column("name")
    t.add_column("description")
    for p in sorted(_library_dir().glob("*.yaml")):
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        t.add_row(p.stem, str(doc.get("description", "")).strip())
    _console().print(t)
    return 0


def _site_table(site: Any) -> Any:
    from rich.table import Table

    t = Table(title=f"site {site.name}", show_header=False)
    t.add_column("what")
    t.add_column("value")
    for k, v in site.summary().items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk} {vv}" for kk, vv in v.items()) or "—"
        t.add_row(k, str(v))
    return t


def _graph_table(summary: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"navigation graph: {summary['nodes']:,} nodes, {summary['edges']:,} edges, "
                    f"{summary['components']} component(s), levels {summary['levels'][0]}..{summary['levels'][1]}")
    t.add_column("kind")
    t.add_column("nodes", justify="right")
    t.add_column("edges", justify="right")
    t.add_column("edge length m", justify="right")
    kinds = sorted(set(summary["nodes_by_kind"]) | set(summary["edges_by_kind"]))
    for k in kinds:
        n = summary["nodes_by_kind"].get(k)
        e = summary["edges_by_kind"].get(k)
        length = summary["length_m_by_kind"].get(k)
        t.add_row(k, "" if n is None else f"{n:,}", "" if e is None else f"{e:,}",
                  "" if length is None else f"{length:,.0f}")
    return t


def _cmd_site_show(args: argparse.Namespace) -> int:
    site = _load_site_arg(args.site)
    console = _console()
    console.print(_site_table(site))
    if args.graph:
        from geometry.navgraph import build_nav_graph, graph_summary

        console.print(_graph_table(graph_summary(build_nav_graph(site, check=False))))
    if args.map:
        from viz.sitemap import plot_site_map

        plot_site_map(site, Path(args.map), title=site.name)
        console.print(f"site map written to {args.map}")
    return 0


def _cmd_site_validate(args: argparse.Namespace) -> int:
    from geometry.navgraph import build_nav_graph, check_connectivity

    site = _load_site_arg(args.site)
    site.validate(source=args.site)
    graph = build_nav_graph(site, check=False)
    if args.connectivity:
        check_connectivity(graph, source=args.site)
    print(f"{args.site}: valid — {len(site.buildings)} buildings, {site.households} households, "
          f"navigation graph {graph.number_of_nodes()} nodes / {graph.number_of_edges()} edges")
    return 0


def _cmd_site_import(args: argparse.Namespace) -> int:
    from geometry.io import write_site
    from scenarios.builder import read_any_site

    src = Path(args.file)
    if not src.is_file():
        return _fail(f"{src}: file not found")
    site = read_any_site(src, default_use=args.default_use)
    if args.dem:
        from geometry.dem import read_dem

        try:
            terrain, filled = read_dem(args.dem)
        except (ValueError, FileNotFoundError) as exc:
            return _fail(str(exc))
        tx0, ty0, tx1, ty1 = terrain.bounds
        bx0, by0, bx1, by1 = site.boundary.bounds
        if tx0 > bx0 or ty0 > by0 or tx1 < bx1 or ty1 < by1:
            return _fail(f"{args.dem}: the DEM covers x {tx0:.0f}..{tx1:.0f}, y {ty0:.0f}..{ty1:.0f} but the site "
                         f"boundary spans x {bx0:.0f}..{bx1:.0f}, y {by0:.0f}..{by1:.0f} ({site.crs}); expected a DEM "
                         "in the site's CRS that covers it")
        site.terrain = terrain
        if filled:
            _console().print(f"[yellow]{args.dem}: {filled} NODATA cells filled from their neighbours[/yellow]")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_site(site, out)
    console = _console()
    console.print(_site_table(site))
    console.print(f"imported {src} -> {out}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from twin.server import serve_main

    try:
        serve_main(site=args.site, host=args.host, port=args.port, store_path=args.store, mqtt_host=args.mqtt_host,
                   mqtt_port=args.mqtt_port, mqtt=not args.no_mqtt, require_mqtt=args.require_mqtt)
    except (ValueError, FileNotFoundError) as exc:
        return _fail(str(exc))
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from live_bridge.replay import MqttTarget, ReplayError, replay_file

    src = Path(args.file)
    if not src.is_file():
        return _fail(f"{src}: file not found")
    speed = None if args.speed == 0 else args.speed
    target = MqttTarget(host=args.mqtt_host, port=args.mqtt_port)
    console = _console()
    try:
        res = replay_file(src, mqtt=target, speed=speed,
                          progress=lambda p: console.print(f"replayed {p.done}/{p.total} lines", end="\r"))
    except (ReplayError, ValueError, OSError) as exc:
        return _fail(str(exc))
    console.print(f"replayed {res.lines} lines ({res.events} events) from {src} to mqtt://{args.mqtt_host}:"
                  f"{args.mqtt_port} in {res.wall_s:.1f} s")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from viz.scene3d import render_scene

    site = _load_site_arg(args.site)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    render_scene(site, out, window_size=(args.width, args.height), camera_position=args.view, title=site.name)
    print(f"3D scene written to {out}")
    if args.map:
        from viz.sitemap import plot_site_map

        plot_site_map(site, Path(args.map), title=site.name)
        print(f"site map written to {args.map}")
    return 0


def _cmd_optimize(args: argparse.Namespace) -> int:
    from rich.table import Table

    from optimizer import runs
    from scenarios.loader import load_scenario
    from viz.optimize_pictures import write_optimize_outputs

    path = _resolve_scenario_path(args.scenario)
    scenario = load_scenario(path)
    console = _console()
    if args.seed is not None and args.seed < 0:
        return _fail(f"--seed: expected a non-negative integer, got {args.seed}")
    seed = scenario.seed if args.seed is None else args.seed
    common: dict[str, Any] = {"out_dir": Path(args.out), "base_dir": path.parent, "seed": seed,
                              "progress": lambda msg: console.print(f"[dim]…[/dim] {msg}")}
    try:
        if args.action == "cameras":
            res = runs.optimize_cameras(scenario, budget=args.budget, max_cameras=args.max_cameras,
                                        k_entrance=args.k_entrance, k_gate=args.k_gate, days=args.days, **common)
        elif args.action == "patrols":
            res = runs.optimize_patrols(scenario, n_patrols=args.patrols, shift_h=args.shift_h, days=args.days,
                                        **common)
        elif args.action == "posts":
            res = runs.optimize_posts(scenario, n_posts=args.posts, standard_s=args.standard_s, days=args.days,
                                      **common)
        else:
            res = runs.optimize_plan(scenario, n_trials=args.trials, group_by=args.group_by, **common)
    except runs.OptimizeInputError as exc:
        return _fail("; ".join(exc.problems))
    if not args.no_pictures:
        console.print("[dim]…[/dim] drawing the map and writing report.html")
        write_optimize_outputs(res)
    sim = res.metrics.get("simulation", {})
    t = Table(title=f"optimize {res.action}: {sim.get('before', '')}  →  {sim.get('after', '')}")
    for col in ("figure", "before", "after", "change"):
        t.add_column(col, justify="left" if col == "figure" else "right")

    def f(x: Any) -> str:
        if x is None:
            return "—"
        if isinstance(x, float):
            return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.0f}"
        return str(x)

    for k, v in {**sim.get("figures", {}), **sim.get("night", {})}.items():
        t.add_row(k, f(v.get("before")), f(v.get("after")), f(v.get("change")))
    console.print(t)
    cov = res.metrics.get("coverage")
    if cov:
        ct = Table(title="coverage (before: the site's cameras)")
        for col in ("figure", "before", "after"):
            ct.add_column(col, justify="left" if col == "figure" else "right")
        for k in cov["after"]:
            ct.add_row(k, f(cov["before"].get(k)), f(cov["after"].get(k)))
        console.print(ct)
    console.print(f"took {res.wall_s:.1f} s; written to [bold]{res.out_dir}[/bold]: "
                  + ", ".join(sorted(p.name for p in res.files)))
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="shoumen", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=fmt)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", formatter_class=fmt, help="run the sample community scenario end to end",
                       description="Run the built-in night-time evacuation of the sample community (about "
                                   "8,500 residents in 15 buildings), print a summary table and write a "
                                   "results folder with metrics, events, a 3D scene, a site map and a report.",
                       epilog="example:\n  shoumen demo --out results/demo --seed 7")
    d.add_argument("--out", default="results/demo", help="results folder (default: %(default)s)")
    d.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    d.add_argument("--no-pictures", action="store_true", help="skip scene.png, site_map.png and report.html")
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser("run", formatter_class=fmt, help="run a scenario file or a library scenario",
                       description="Run one replication of a scenario and write its results folder: "
                                   "scenario.yaml (resolved, with seeds), metrics.json, events.parquet, "
                                   "fields/, scene.png, site_map.png and report.html. The same scenario "
                                   "and seed give the same metrics.json.",
                       epilog="examples:\n  shoumen run highrise-stair-blocked --out results/b03\n"
                              "  shoumen run my.yaml --out results/r3 --replication 3\n"
                              "  shoumen run daytime-drill --out results/drill --realtime --speed 10")
    r.add_argument("scenario", help="a scenario YAML file, or the name of a built-in one (see 'shoumen scenarios')")
    r.add_argument("--out", required=True, help="results folder to write")
    r.add_argument("--replication", type=int, default=0, help="which replication to run (default 0)")
    r.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    r.add_argument("--no-pictures", action="store_true", help="skip scene.png, site_map.png and report.html")
    r.add_argument("--realtime", action="store_true",
                   help="pace the simulation by the wall clock, as in a live drill (default: as fast as possible)")
    r.add_argument("--speed", type=float, default=None,
                   help="with --realtime: simulated seconds per wall-clock second (e.g. 10 for ten times faster)")
    r.set_defaults(func=_cmd_run)

    sc = sub.add_parser("scenarios", help="list the built-in scenarios", formatter_class=fmt,
                        description="List the scenarios shipped in scenarios/library.",
                        epilog="example:\n  shoumen scenarios")
    sc.set_defaults(func=_cmd_scenarios)

    s = sub.add_parser("site", formatter_class=fmt, help="show, validate or import a site",
                       description="Work with site files. SITE is 'sample' (the built-in community) or a "
                                   "file: .gpkg, .geojson, .osm or CityJSON (.city.json).",
                       epilog="examples:\n  shoumen site show sample --map sample.png\n"
                              "  shoumen site validate estate.gpkg\n"
                              "  shoumen site import west-oakland.osm --out west-oakland.gpkg")
    ssub = s.add_subparsers(dest="site_command", metavar="SUBCOMMAND")
    show = ssub.add_parser("show", help="print what a site holds", formatter_class=fmt,
                           description="Print a site's counts: buildings by use, households, stairs, exits, "
                                       "gates, devices by kind, terrain.",
                           epilog="example:\n  shoumen site show sample --graph --map sample.png")
    show.add_argument("site", help="'sample' or a site file")
    show.add_argument("--graph", action="store_true", help="also build and summarise the navigation graph")
    show.add_argument("--map", default=None, help="also write a 2D site map PNG here")
    show.set_defaults(func=_cmd_site_show)
    val = ssub.add_parser("validate", help="check a site against the schema", formatter_class=fmt,
                          description="Check every rule of the site schema (docs/site-format.md) and build the "
                                      "navigation graph. Prints every problem with its feature and field; "
                                      "exit status 2 when the site is invalid.",
                          epilog="example:\n  shoumen site validate estate.gpkg --connectivity")
    val.add_argument("site", help="'sample' or a site file")
    val.add_argument("--connectivity", action="store_true",
                     help="also require that every dwelling can reach a gate or assembly point")
    val.set_defaults(func=_cmd_site_validate)
    imp = ssub.add_parser("import", help="import OSM, CityJSON or GeoJSON into a site file", formatter_class=fmt,
                          description="Import an OpenStreetMap XML (.osm) or CityJSON file (projected once to "
                                      "a local metric CRS), infer storeys, stairs and exits with the documented "
                                      "defaults, validate, and save as GeoPackage (.gpkg) or GeoJSON.",
                          epilog="examples:\n  shoumen site import ../shared/data/sites/delft.city.json --out delft.gpkg\n"
                                 "  shoumen site import estate.osm --out estate.gpkg --default-use residential_walkup\n"
                                 "  shoumen site import estate.osm --out estate.gpkg --dem survey.tif")
    imp.add_argument("file", help="the file to import")
    imp.add_argument("--out", required=True, help="the site file to write (.gpkg or .geojson)")
    imp.add_argument("--default-use", default=None,
                     choices=["residential_walkup", "residential_highrise", "kindergarten", "community_centre",
                              "garage", "other"],
                     help="use of buildings whose tags say nothing more specific (OSM building=yes); "
                          "default: other (no households)")
    imp.add_argument("--dem", default=None,
                     help="terrain for flood runs: an ESRI ASCII grid (.asc) or GeoTIFF (.tif) in the site's projected "
                          "CRS covering its boundary")
    imp.set_defaults(func=_cmd_site_import)

    sv = sub.add_parser("serve", formatter_class=fmt, help="run the live twin service (HTTP + MQTT ingest, alarms, forecast)",
                        description="Run a real-time twin of a site fed by the live bridge: MQTT (QoS 1, acknowledged "
                                    "after the event is stored) and HTTP ingest into a durable SQLite event store, the "
                                    "device registry, the alarm centre, the mirror into the twin, and an API: GET /state, "
                                    "/alarms, /events; POST /alarms/{id}/ack|resolve, /forecast. Tokens and keys come "
                                    "from SHOUMEN_TOKENS ('token=user:role,...') and SHOUMEN_API_KEYS; the store from "
                                    "SHOUMEN_LIVE_DB or --store.",
                        epilog="examples:\n  SHOUMEN_API_KEYS=device-key-0123456789 SHOUMEN_TOKENS=op-token-0123456789=ann:operator "
                               "\\\n    shoumen serve --port 8080\n"
                               "  shoumen replay events.jsonl --speed 10     (in another shell: feed it a recorded day)")
    sv.add_argument("--site", default="sample", help="'sample' (default) or a site file")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    sv.add_argument("--store", default=None, help="the SQLite event store (default: SHOUMEN_LIVE_DB or shoumen-live.sqlite)")
    sv.add_argument("--mqtt-host", default=None, help="MQTT broker host (default: SHOUMEN_MQTT_HOST or 127.0.0.1)")
    sv.add_argument("--mqtt-port", type=int, default=None, help="MQTT broker port (default: SHOUMEN_MQTT_PORT or 1883)")
    sv.add_argument("--no-mqtt", action="store_true", help="HTTP ingest only")
    sv.add_argument("--require-mqtt", action="store_true", help="fail if the broker cannot be reached")
    sv.set_defaults(func=_cmd_serve)

    rp = sub.add_parser("replay", formatter_class=fmt, help="replay a JSON Lines event file to the MQTT broker",
                        description="Publish a recorded JSON Lines file of CloudEvents (or Frigate lines with a topic) "
                                    "to the broker at real speed, faster (--speed 10) or as fast as possible (--speed 0), "
                                    "keeping the events' time spacing; the whole file is checked first.",
                        epilog="example:\n  shoumen replay events.jsonl --speed 10 --mqtt-port 1883")
    rp.add_argument("file", help="the .jsonl file")
    rp.add_argument("--speed", type=float, default=1.0, help="1 = real time, 10 = ten times faster, 0 = as fast as possible")
    rp.add_argument("--mqtt-host", default="127.0.0.1", help="broker host (default 127.0.0.1)")
    rp.add_argument("--mqtt-port", type=int, default=1883, help="broker port (default 1883)")
    rp.set_defaults(func=_cmd_replay)

    rd = sub.add_parser("render", formatter_class=fmt, help="render a site's 3D scene to PNG",
                        description="Render the site off-screen: terrain, extruded buildings with storey lines, "
                                    "ways, gates, cameras with view cones and devices.",
                        epilog="example:\n  shoumen render sample --out sample.png --map sample-map.png")
    rd.add_argument("site", nargs="?", default="sample", help="'sample' (default) or a site file")
    rd.add_argument("--out", default="scene.png", help="PNG to write (default: %(default)s)")
    rd.add_argument("--map", default=None, help="also write a 2D site map PNG here")
    rd.add_argument("--view", default="iso", help="camera position: iso, xy (top), xz or yz (default: iso)")
    rd.add_argument("--width", type=int, default=1600, help="image width in pixels")
    rd.add_argument("--height", type=int, default=1000, help="image height in pixels")
    rd.set_defaults(func=_cmd_render)

    op = sub.add_parser("optimize", formatter_class=fmt, help="optimise cameras, patrols, posts or an evacuation plan",
                        description="Optimise one thing on a scenario's site and judge it by simulation, before vs "
                                    "after, on the same incidents or the same people. Writes into --out: the plan "
                                    "as GeoJSON (site CRS), a map PNG, metrics.json and report.html.\n\n"
                                    "  cameras  least-cost camera cover (entrances and gates seen twice), or the best\n"
                                    "           cover within --budget CNY / --max-cameras; simulated detection and\n"
                                    "           response vs the site's cameras over --days days\n"
                                    "  patrols  night-shift (00:00-08:00) patrol routes from the main gate to the\n"
                                    "           night risk places; vs the site's default loop\n"
                                    "  posts    where guards / AEDs wait (p-median, max covering within --standard-s);\n"
                                    "           response p50/p90 vs guards at the gate houses and the office\n"
                                    "  plan     exit and assembly point per building (Optuna); crowd-model RSET vs\n"
                                    "           nearest exit\n\n"
                                    "A plan GeoJSON loads back into a scenario: interventions: {camera_plans: [F]} "
                                    "or {plans: [F]} (docs/scenario-format.md).",
                        epilog="examples:\n"
                               "  shoumen optimize cameras daytime-drill --out results/cams\n"
                               "  shoumen optimize cameras daytime-drill --out results/cams50k --budget 50000\n"
                               "  shoumen optimize patrols daytime-drill --out results/patrols --patrols 4 --shift-h 8\n"
                               "  shoumen optimize posts daytime-drill --out results/posts --posts 6\n"
                               "  shoumen optimize plan my-daytime.yaml --out results/plan --trials 30")
    op.add_argument("action", choices=["cameras", "patrols", "posts", "plan"], help="what to optimise")
    op.add_argument("scenario", help="a scenario YAML file, or the name of a built-in one (see 'shoumen scenarios')")
    op.add_argument("--out", required=True, help="results folder to write")
    op.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    op.add_argument("--days", type=float, default=60.0,
                    help="cameras/patrols/posts: days of incidents to simulate (default %(default)s)")
    op.add_argument("--budget", type=float, default=None, help="cameras: budget in CNY (default: full cover)")
    op.add_argument("--max-cameras", type=int, default=None, help="cameras: at most this many cameras")
    op.add_argument("--k-entrance", type=int, default=2,
                    help="cameras: cameras that must see each building entrance (default %(default)s)")
    op.add_argument("--k-gate", type=int, default=2, help="cameras: cameras that must see each gate (default %(default)s)")
    op.add_argument("--patrols", type=int, default=None,
                    help="patrols: walking guards on the night shift (default: one per 500 residents over three "
                         "shifts, less the gate guard)")
    op.add_argument("--shift-h", type=float, default=8.0, help="patrols: shift length in hours (default %(default)s)")
    op.add_argument("--posts", type=int, default=None, help="posts: how many posts (default: guards per shift)")
    op.add_argument("--standard-s", type=float, default=180.0,
                    help="posts: response standard, running time in s, for max covering (default %(default)s)")
    op.add_argument("--trials", type=int, default=30, help="plan: plans to try (default %(default)s)")
    op.add_argument("--group-by", choices=["building", "stair"], default="building",
                    help="plan: one choice per building or per walk-up stair (default %(default)s)")
    op.add_argument("--no-pictures", action="store_true", help="skip the map PNG and report.html")
    op.set_defaults(func=_cmd_optimize)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shoumen`` console script."""
    from geometry.site import SiteError
    from scenarios.loader import ScenarioError

    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        if args.command == "site":
            parser.parse_args(["site", "--help"])
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return func(args)
    except (ScenarioError, SiteError) as exc:
        return _fail(str(exc))
    except FileNotFoundError as exc:
        return _fail(str(exc.args[0]) if exc.args else str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
