"""Metrics from the recording: runs without an evacuation, and runs continued in several calls."""

from __future__ import annotations

from scenarios.builder import build_run
from scenarios.loader import parse_scenario
from scenarios.metrics import compute_metrics

SAMPLE = """\
name: t
site: {sample: true}
seed: 5
duration_s: 900
population: {time_of_day: "15:00", buildings: [B12]}
alarm: {scope: building, buildings: [B12]}
"""


def test_run_without_evacuation_has_metrics() -> None:
    # no PopulationPlaced events at all (evacuation: null; also every free-form geometry case)
    built = build_run(parse_scenario(SAMPLE.replace("duration_s: 900", "duration_s: 20") + "evacuation: null\n"))
    built.twin.run(until=20)
    m = compute_metrics(built.twin.recorder.events_frame())
    assert m["buildings"] == {} and m["estate"]["occupants"] == 0 and m["simulated_s"] == 20.0


def test_bottlenecks_do_not_depend_on_how_the_run_was_split() -> None:
    whole = build_run(parse_scenario(SAMPLE))
    whole.twin.run(until=900)
    parts = build_run(parse_scenario(SAMPLE))
    for until in (200, 500, 900):
        parts.twin.run(until=until)  # each call ends with RunFinished and a Bottleneck report
    m_whole = compute_metrics(whole.twin.recorder.events_frame())
    m_parts = compute_metrics(parts.twin.recorder.events_frame())
    assert m_whole["bottlenecks"], "the scenario should queue somewhere"
    assert m_parts["bottlenecks"] == m_whole["bottlenecks"]
    assert m_parts["estate"] == m_whole["estate"] and m_parts["buildings"] == m_whole["buildings"]
