"""Fire and smoke (issue 4, in progress): fire sources, plume / ceiling-jet / layer-descent
correlations, detector response, tenability relations, the buildings' compartment networks, the
two-zone smoke model and the twin component that couples them to alarms.
Modules import only numpy/numba/scipy; no import-time side effects."""

from twin.fire.component import FireComponent, zone_model_of
from twin.fire.compartments import CompartmentNetwork, building_network, site_network
from twin.fire.correlations import (
    LAYER_VALID_AREA_RATIO,
    LAYER_VALID_Z_OVER_H,
    ceiling_jet,
    flame_height_m,
    layer_descent_valid,
    layer_height_steady_m,
    layer_height_t2_m,
    limiting_flame_height_m,
    plume_mass_flow_kg_s,
)
from twin.fire.detectors import (
    DEFAULT_HEAT_RTI,
    DEFAULT_HEAT_T_ACT_C,
    DEFAULT_SMOKE_OBSCURATION_PER_M,
    DEFAULT_SMOKE_RISE_K,
    SOOT_MASS_EXTINCTION_M2_KG,
    DetectorBank,
)
from twin.fire.sources import FUELS, GROWTH_TIMES_S, FireSource, Fuel, alpha_kw_s2, ventilation_limit_kw
from twin.fire.zone import ZoneModel, ZoneResult
from twin.fire.tenability import (
    TENABILITY_LIMITS,
    AsetResult,
    aset_s,
    extinction_coefficient_per_m,
    fed_accumulate,
    fed_heat_accumulate,
    fed_rate_per_min,
    heat_incapacitation_min,
    visibility_m,
    walking_speed_in_smoke,
)

__all__ = [
    "DEFAULT_HEAT_RTI",
    "DEFAULT_HEAT_T_ACT_C",
    "DEFAULT_SMOKE_OBSCURATION_PER_M",
    "DEFAULT_SMOKE_RISE_K",
    "FUELS",
    "GROWTH_TIMES_S",
    "LAYER_VALID_AREA_RATIO",
    "LAYER_VALID_Z_OVER_H",
    "SOOT_MASS_EXTINCTION_M2_KG",
    "TENABILITY_LIMITS",
    "AsetResult",
    "CompartmentNetwork",
    "FireComponent",
    "ZoneModel",
    "ZoneResult",
    "building_network",
    "site_network",
    "zone_model_of",
    "DetectorBank",
    "FireSource",
    "Fuel",
    "alpha_kw_s2",
    "aset_s",
    "ceiling_jet",
    "extinction_coefficient_per_m",
    "fed_accumulate",
    "fed_heat_accumulate",
    "fed_rate_per_min",
    "flame_height_m",
    "heat_incapacitation_min",
    "layer_descent_valid",
    "layer_height_steady_m",
    "layer_height_t2_m",
    "limiting_flame_height_m",
    "plume_mass_flow_kg_s",
    "ventilation_limit_kw",
    "visibility_m",
    "walking_speed_in_smoke",
]
