"""Scenarios: the YAML schema, the loader with line-numbered errors, the builder that turns a
scenario into a Twin, the run that writes a results folder, and metrics from the recording.
Built-in scenarios live in ``scenarios/library/``."""

from scenarios.builder import BuiltRun, build_run, load_site_ref, read_any_site
from scenarios.loader import ScenarioError, load_scenario, parse_scenario
from scenarios.metrics import METRICS_VERSION, compute_metrics, evacuation_curve, event_data
from scenarios.run import RunResult, run_scenario, write_resolved_scenario
from scenarios.schema import Scenario

__all__ = [
    "METRICS_VERSION",
    "BuiltRun",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "build_run",
    "compute_metrics",
    "evacuation_curve",
    "event_data",
    "load_scenario",
    "load_site_ref",
    "parse_scenario",
    "read_any_site",
    "run_scenario",
    "write_resolved_scenario",
]
