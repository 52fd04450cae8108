"""Surface flooding: two numba shallow-water solvers behind one interface (:mod:`.solvers`: the
local inertial model of Bates et al. 2010 with de Almeida et al. 2012's theta weighting, and
shock-capturing HLL finite volumes with Audusse et al. 2004's hydrostatic reconstruction) with
rain, drainage, inflow hydrographs, boundaries and a volume account; the hazard of water to
people and vehicles (:mod:`.hazard`: FD2321, AIDR 7-3, Shand 2011, Xia, Bernardini); the flood
grid of a site (:mod:`.site_grid`) and the twin component (:mod:`.component`). No import-time
side effects."""

from twin.flood.component import FloodComponent, Rainstorm, zhengzhou_like_storm
from twin.flood.hazard import (
    AIDR_CLASS_DESCRIPTIONS,
    FD2321_CLASS_NAMES,
    VEHICLE_LIMITS,
    FD2321Hazard,
    PersonStability,
    RoadClosure,
    VehicleLimit,
    aidr_hazard_class,
    fd2321_hazard,
    person_critical_velocity,
    person_stability,
    road_closure,
    vehicle_stable,
    walking_speed_in_water,
)
from twin.flood.site_grid import GarageStore, SiteFloodGrid, site_flood_grid
from twin.flood.solvers import (
    DEFAULT_ALPHA,
    DEFAULT_CFL,
    DEFAULT_CFL_ORDER2,
    DEFAULT_H_EPS_M,
    DEFAULT_THETA,
    DEFAULT_VELOCITY_DEPTH_M,
    MM_H_TO_M_S,
    SIDES,
    SOLVERS,
    FloodForcing,
    FloodGrid,
    FloodModel,
    FloodResult,
    Inflow,
    MassBalance,
)

__all__ = [
    "AIDR_CLASS_DESCRIPTIONS",
    "DEFAULT_ALPHA",
    "DEFAULT_CFL",
    "DEFAULT_CFL_ORDER2",
    "DEFAULT_H_EPS_M",
    "DEFAULT_THETA",
    "DEFAULT_VELOCITY_DEPTH_M",
    "FD2321_CLASS_NAMES",
    "MM_H_TO_M_S",
    "SIDES",
    "SOLVERS",
    "VEHICLE_LIMITS",
    "FD2321Hazard",
    "FloodComponent",
    "FloodForcing",
    "FloodGrid",
    "FloodModel",
    "FloodResult",
    "GarageStore",
    "Inflow",
    "MassBalance",
    "PersonStability",
    "Rainstorm",
    "RoadClosure",
    "SiteFloodGrid",
    "VehicleLimit",
    "aidr_hazard_class",
    "fd2321_hazard",
    "person_critical_velocity",
    "person_stability",
    "road_closure",
    "site_flood_grid",
    "vehicle_stable",
    "walking_speed_in_water",
    "zhengzhou_like_storm",
]
