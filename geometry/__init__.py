"""The static site: data model, import/export, sample community, navigation graph, level
rasters and distance fields."""

from geometry.atlas import AtlasRegion, BuildingAtlas, Portals, building_atlas, flight_length_m
from geometry.cityjson import import_cityjson
from geometry.distance import descent_directions, distance_field, wall_distance_field
from geometry.floorplan import StoreyLayout, storey_layout
from geometry.io import read_site, write_site
from geometry.navgraph import (
    Route,
    build_nav_graph,
    check_connectivity,
    graph_summary,
    nearest_exit_routes,
    nodes_of_kind,
    route,
    unreachable,
)
from geometry.osm import import_osm
from geometry.raster import LevelRaster, outdoor_raster, rasterize_polygons, storey_raster
from geometry.sample import sample_community
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
from geometry.viewshed import (
    OcclusionGrid,
    PoseArray,
    Visibility,
    camera_view,
    detection_probability,
    occlusion_grid,
    visibility,
)
from geometry.dem import read_dem, write_esri_ascii, write_geotiff

__all__ = [
    "OcclusionGrid",
    "PoseArray",
    "Visibility",
    "camera_view",
    "detection_probability",
    "occlusion_grid",
    "read_dem",
    "visibility",
    "write_esri_ascii",
    "write_geotiff",
    "ACCESS_TYPES",
    "AtlasRegion",
    "BuildingAtlas",
    "Portals",
    "building_atlas",
    "flight_length_m",
    "Building",
    "BuildingExit",
    "BuildingUse",
    "CameraSpec",
    "Device",
    "DeviceKind",
    "Elevator",
    "Gate",
    "Grid",
    "LevelRaster",
    "OpenSpace",
    "Route",
    "Site",
    "SiteError",
    "StairCore",
    "StoreyLayout",
    "Terrain",
    "Way",
    "build_nav_graph",
    "check_connectivity",
    "descent_directions",
    "distance_field",
    "graph_summary",
    "import_cityjson",
    "import_osm",
    "nearest_exit_routes",
    "nodes_of_kind",
    "outdoor_raster",
    "rasterize_polygons",
    "read_site",
    "route",
    "sample_community",
    "storey_layout",
    "storey_raster",
    "unreachable",
    "wall_distance_field",
    "write_site",
]
