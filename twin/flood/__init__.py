"""Surface flooding (flood issue): two numba shallow-water solvers behind one interface, the
local inertial model (Bates et al. 2010; de Almeida et al. 2012) and shock-capturing HLL finite
volumes with hydrostatic reconstruction (Audusse et al. 2004), with rain, drainage, inflow
hydrographs, boundaries and a volume account. Hazard relations live elsewhere.
Modules import only numpy/numba; no import-time side effects."""

from twin.flood.solvers import (
    DEFAULT_ALPHA,
    DEFAULT_CFL,
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
    "DEFAULT_ALPHA",
    "DEFAULT_CFL",
    "DEFAULT_H_EPS_M",
    "DEFAULT_THETA",
    "DEFAULT_VELOCITY_DEPTH_M",
    "MM_H_TO_M_S",
    "SIDES",
    "SOLVERS",
    "FloodForcing",
    "FloodGrid",
    "FloodModel",
    "FloodResult",
    "Inflow",
    "MassBalance",
]
