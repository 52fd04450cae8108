"""People and teams: population synthesis and the network-flow (SFPE hydraulic) evacuation
model with its numba kernel. The microscopic crowd model, behaviour, patrols and responders
arrive with their issues."""

from agents.flow_evacuation import FlowEvacuation, FlowParameters, RouteTargetError
from agents.population import (
    HouseholdPopulation,
    at_home_fraction,
    default_premovement_median_s,
    synthesize_households,
)

__all__ = [
    "FlowEvacuation",
    "FlowParameters",
    "HouseholdPopulation",
    "RouteTargetError",
    "at_home_fraction",
    "default_premovement_median_s",
    "synthesize_households",
]
