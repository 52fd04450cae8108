"""Scenario files: valid ones load, bad ones give one clear line per problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios.loader import ScenarioError, load_scenario, parse_scenario

GOOD = """\
name: night drill
site:
  sample: true
seed: 3
duration_s: 600
population:
  time_of_day: "03:00"
injects:
  - at_s: 120
    action: block
    target: B03-S1
"""


def _error(text: str, tmp_path: Path) -> str:
    p = tmp_path / "scenario.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    return str(info.value)


def test_good_scenario_loads_with_defaults() -> None:
    s = parse_scenario(GOOD)
    assert s.seed == 3 and s.duration_s == 600
    assert s.population.hour == 3.0
    assert s.injects[0].target == "B03-S1"
    assert s.dt_s == 1.0 and s.replications == 1


def test_misspelled_key_names_line_and_suggests(tmp_path: Path) -> None:
    msg = _error(GOOD.replace("duration_s", "duraton_s"), tmp_path)
    assert "scenario.yaml, line 5" in msg
    assert "unknown key 'duraton_s'" in msg and "did you mean 'duration_s'" in msg


def test_misspelled_nested_key(tmp_path: Path) -> None:
    msg = _error(GOOD.replace("time_of_day", "time_of_dya"), tmp_path)
    assert "line 7" in msg and "'population.time_of_dya'" in msg and "did you mean 'time_of_day'" in msg


def test_bad_value_names_field_and_expectation(tmp_path: Path) -> None:
    msg = _error(GOOD.replace("duration_s: 600", "duration_s: -5"), tmp_path)
    assert "line 5" in msg and "'duration_s'" in msg and "greater than 0" in msg and "-5" in msg


def test_bad_enum_in_list_item(tmp_path: Path) -> None:
    msg = _error(GOOD.replace("action: block", "action: explode"), tmp_path)
    assert "line 10" in msg and "'injects.0.action'" in msg and "'block'" in msg


def test_not_yaml(tmp_path: Path) -> None:
    msg = _error("name: [unclosed\n  site: x\n", tmp_path)
    assert "not valid YAML" in msg and "line" in msg


def test_not_a_mapping(tmp_path: Path) -> None:
    msg = _error("just some words\n", tmp_path)
    assert "not a scenario file" in msg and "expected a YAML mapping" in msg


def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(ScenarioError, match="not a YAML text file"):
        load_scenario(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_site_and_geometry_are_exclusive(tmp_path: Path) -> None:
    msg = _error("name: x\n", tmp_path)
    assert "exactly one of 'site' and 'geometry'" in msg


def test_bad_time_of_day(tmp_path: Path) -> None:
    msg = _error(GOOD.replace('"03:00"', '"25:61"'), tmp_path)
    assert "expected HH:MM" in msg and "line 7" in msg


def test_free_form_geometry_needs_an_exit(tmp_path: Path) -> None:
    text = """\
name: room
geometry:
  levels:
    - walkable: [[[0, 0], [8, 0], [8, 5], [0, 5]]]
      doors: [{id: d1, a: [8, 2], b: [8, 3]}]
evacuation: null
"""
    msg = _error(text, tmp_path)
    assert "needs at least one door with 'exit: true'" in msg


def test_free_form_geometry_loads() -> None:
    s = parse_scenario("""\
name: room
geometry:
  levels:
    - walkable: [[[0, 0], [8, 0], [8, 5], [0, 5]]]
      doors: [{id: exit, a: [8, 2], b: [8, 3], exit: true}]
evacuation: null
alarm: null
""")
    assert s.geometry is not None
    assert s.geometry.levels[0].doors[0].width_m == pytest.approx(1.0)


def test_library_scenarios_all_load() -> None:
    lib = Path(__file__).resolve().parents[3] / "scenarios" / "library"
    files = sorted(lib.glob("*.yaml"))
    assert files, "the scenario library is empty"
    for f in files:
        load_scenario(f)


# --- settings that used to be accepted and then ignored or crash the run (review fixes) ---------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("duration_s: 700\n", r"line 10: key 'duration_s' is given twice \(first on line 5\)"),
        ("outputs: {snapshot_every_s: .inf}\n", r"outputs\.snapshot_every_s.*finite"),
        ("interventions:\n  cameras: [{id: c1, x: 1, y: 2, colour: red}]\n", r"camera 0: unknown key\(s\) colour"),
        ("interventions:\n  cameras: [{id: c1, x: 1}]\n", r"camera 0: missing key\(s\) y"),
        ("alarm: {scope: estate, buildings: [B01]}\n", r"'buildings' is only for scope 'building'"),
        ("alarm: {at_s: 900}\n", r"alarm\.at_s = 900 s after duration_s = 600 s"),
        ("population:\n  premovement: {median_s: 20, min_s: 60}\n", r"'median_s' \(20 s\) must exceed 'min_s' \(60 s\)"),
    ],
)
def test_ignored_or_unusable_settings_are_errors(tmp_path: Path, extra: str, expected: str) -> None:
    text = GOOD.replace('population:\n  time_of_day: "03:00"\n', "") + extra
    msg = _error(text, tmp_path)
    assert "scenario.yaml" in msg
    assert re.search(expected, msg), msg


def test_inject_after_the_end_is_an_error(tmp_path: Path) -> None:
    msg = _error(GOOD.replace("at_s: 120", "at_s: 5000"), tmp_path)
    assert "injects.0.at_s = 5000 s after duration_s = 600 s" in msg


def test_wall_with_one_point_is_an_error(tmp_path: Path) -> None:
    text = (
        "name: w\ngeometry:\n  levels:\n    - walkable: [[[0, 0], [4, 0], [4, 4]]]\n"
        "      walls: [[[2, 0]]]\n      doors: [{id: e, a: [4, 1], b: [4, 2], exit: true}]\nevacuation: null\n"
    )
    msg = _error(text, tmp_path)
    assert "line 5" in msg and "geometry.levels.0.walls" in msg and "wall 0 has 1 point(s)" in msg


def test_union_alternatives_are_one_line_without_type_tags(tmp_path: Path) -> None:
    msg = _error(GOOD.replace('  time_of_day: "03:00"', "  buildings: 7"), tmp_path)
    assert "field 'population.buildings': Input should be a valid list or Input should be 'all' (got 7)" in msg
    assert "list[str]" not in msg and "literal" not in msg


def test_boolean_seed_is_not_an_integer(tmp_path: Path) -> None:
    msg = _error(GOOD.replace("seed: 3", "seed: true"), tmp_path)
    assert "line 4" in msg and "field 'seed': Input should be a valid integer" in msg
