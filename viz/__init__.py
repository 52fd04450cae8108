"""Pictures: the 3D scene of a site (pyvista, off-screen), the 2D site map and the run report
(matplotlib). Modules import pyvista and matplotlib lazily, inside their functions."""

from viz.crowd_pictures import LOS_COLORS, animate_trace, plot_density_map, plot_evacuation_curves
from viz.report import plot_evacuation_curve, write_report
from viz.scene3d import CAMERA_VIEWS, render_scene, scene_origin, site_meshes
from viz.sitemap import plot_site_map

__all__ = [
    "CAMERA_VIEWS",
    "LOS_COLORS",
    "animate_trace",
    "plot_density_map",
    "plot_evacuation_curves",
    "plot_evacuation_curve",
    "plot_site_map",
    "render_scene",
    "scene_origin",
    "site_meshes",
    "write_report",
]
