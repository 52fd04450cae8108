"""People and teams: household and person-level population synthesis, and the network-flow
(SFPE hydraulic) evacuation model, and the microscopic crowd model (collision-free speed model,
single level so far) — each with its numba kernel in a private module."""

from agents.crowd import CrowdComponent, CrowdModel, CrowdParameters
from agents.demographics import (
    CARRIED_CHILD_AGE_Y,
    PROFILE_NAMES,
    SPEED_DISTRIBUTIONS,
    STAIR_ASCENT_M_S,
    STAIR_DESCENT_M_S,
    WEIDMANN_FREE_SPEED_M_S,
    People,
    Profile,
    SpeedDistribution,
    SpeedGroup,
    draw_walking_speeds,
    speed_group_for,
    synthesize_people,
)
from agents.flow_evacuation import FlowEvacuation, FlowParameters, RouteTargetError
from agents.population import (
    HouseholdPopulation,
    at_home_fraction,
    default_premovement_median_s,
    synthesize_households,
)

__all__ = [
    "CARRIED_CHILD_AGE_Y",
    "CrowdComponent",
    "CrowdModel",
    "CrowdParameters",
    "PROFILE_NAMES",
    "SPEED_DISTRIBUTIONS",
    "STAIR_ASCENT_M_S",
    "STAIR_DESCENT_M_S",
    "WEIDMANN_FREE_SPEED_M_S",
    "People",
    "Profile",
    "SpeedDistribution",
    "SpeedGroup",
    "draw_walking_speeds",
    "speed_group_for",
    "synthesize_people",
    "FlowEvacuation",
    "FlowParameters",
    "HouseholdPopulation",
    "RouteTargetError",
    "at_home_fraction",
    "default_premovement_median_s",
    "synthesize_households",
]
