"""The static site: data model, import/export, sample community, navigation graph, level
rasters and distance fields, and 3D meshes."""

from geometry.site import (
    ACCESS_TYPES,
    Building,
    BuildingExit,
    BuildingUse,
    CameraSpec,
    Device,
    DeviceKind,
    Elevator,
    Gate,
    Grid,
    OpenSpace,
    Site,
    SiteError,
    StairCore,
    Terrain,
    Way,
)

__all__ = [
    "ACCESS_TYPES",
    "Building",
    "BuildingExit",
    "BuildingUse",
    "CameraSpec",
    "Device",
    "DeviceKind",
    "Elevator",
    "Gate",
    "Grid",
    "OpenSpace",
    "Site",
    "SiteError",
    "StairCore",
    "Terrain",
    "Way",
]
