"""A small hand-built site for the viz tests: two residential buildings of different storeys
(with stairs and exits), a kindergarten with an L-shaped (concave) footprint, an underground
garage (storeys=0, basement_levels=1) reached by a ramp, ways of every kind, two gates, an
assembly point, a playground, two grids, cameras (outdoor and indoor), per-household smoke
detectors and a few other devices, on a terrain raster that falls towards the south-west."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geometry.site import (
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
    StairCore,
    Terrain,
    Way,
)


def build_small_site(*, offset: tuple[float, float] = (0.0, 0.0)) -> Site:
    """The test site; ``offset`` moves every coordinate (to test large projected coordinates)."""
    ox, oy = offset

    def P(x: float, y: float) -> Point:
        return Point(x + ox, y + oy)

    def B(x0: float, y0: float, x1: float, y1: float) -> Polygon:
        return box(x0 + ox, y0 + oy, x1 + ox, y1 + oy)

    def L(*pts: tuple[float, float]) -> LineString:
        return LineString([(x + ox, y + oy) for x, y in pts])

    cs = 2.0
    nx, ny = 90, 70  # 180 m x 140 m, origin (-10, -10)
    xc = -10 + (np.arange(nx) + 0.5) * cs
    yc = -10 + (np.arange(ny) + 0.5) * cs
    X, Y = np.meshgrid(xc, yc)
    z = 0.2 + 2.5 * X / 160.0 + 1.8 * Y / 120.0 + 0.3 * np.sin(X / 25.0) * np.cos(Y / 30.0)
    terrain = Terrain(origin=(-10.0 + ox, -10.0 + oy), cell_size_m=cs, z=z)

    def ground(x: float, y: float) -> float:
        return float(terrain.elevation_at(x + ox, y + oy))

    b1 = Building(
        "B01", B(15, 72, 65, 84), BuildingUse.WALKUP, storeys=6, storey_height_m=2.9,
        households_per_storey=4, name="Walk-up 1", base_z=ground(40, 78),
        stairs=[StairCore("B01-S1", "B01", P(27, 78)), StairCore("B01-S2", "B01", P(53, 78))],
        exits=[BuildingExit("B01-E1", "B01", P(27, 72)), BuildingExit("B01-E2", "B01", P(53, 72))],
    )
    b2 = Building(
        "B02", B(100, 62, 128, 80), BuildingUse.HIGHRISE, storeys=18, storey_height_m=3.0,
        households_per_storey=8, basement_levels=1, name="Tower", base_z=ground(114, 71),
        stairs=[StairCore("B02-S1", "B02", P(106, 71), width_m=1.3),
                StairCore("B02-S2", "B02", P(122, 71), width_m=1.3)],
        exits=[BuildingExit("B02-E1", "B02", P(114, 62), width_m=1.8)],
        elevators=[Elevator("B02-L1", "B02", P(114, 72), fire_service=True)],
    )
    kg = Polygon([(15 + ox, 15 + oy), (50 + ox, 15 + oy), (50 + ox, 27 + oy), (28 + ox, 27 + oy),
                  (28 + ox, 45 + oy), (15 + ox, 45 + oy)])
    b3 = Building(
        "B03", kg, BuildingUse.KINDERGARTEN, storeys=3, storey_height_m=3.6, name="Kindergarten",
        base_z=ground(25, 25), stairs=[StairCore("B03-S1", "B03", P(22, 30))],
        exits=[BuildingExit("B03-E1", "B03", P(40, 15), width_m=1.8)],
    )
    b4 = Building(
        "B04", B(78, 12, 140, 45), BuildingUse.GARAGE, storeys=0, basement_levels=1,
        storey_height_m=3.5, name="Garage", base_z=ground(78, 28),
        stairs=[StairCore("B04-S1", "B04", P(135, 40), lowest_level=-1, highest_level=0)],
        exits=[BuildingExit("B04-E1", "B04", P(135, 45), level=-1)],
    )
    ways = [
        Way("W-road-1", L((88, 0), (88, 55), (150, 55)), 6.0, "road", "Main road"),
        Way("W-fire-1", L((88, 55), (88, 90), (10, 90)), 4.0, "fire_lane", "Fire lane"),
        Way("W-walk-1", L((0, 62), (70, 62), (88, 62)), 2.5, "walkway"),
        Way("W-walk-2", L((40, 62), (40, 50)), 2.0, "walkway"),
        Way("W-walk-3", L((114, 55), (114, 62)), 2.0, "walkway"),
        Way("W-ramp-1", L((60, 32), (78, 32)), 5.0, "ramp", "Garage ramp"),
        Way("W-road-2", L((60, 32), (60, 5), (88, 5)), 5.0, "road"),
    ]
    gates = [
        Gate("G-south", P(88, 0), "vehicle", "plate", 6.0, "South gate"),
        Gate("G-west", P(0, 62), "pedestrian", "face", 2.5, "West gate"),
    ]
    opens = [
        OpenSpace("O-AP1", B(30, 48, 55, 60), "square", capacity=600, assembly_point=True,
                  name="Central square"),
        OpenSpace("O-PG1", B(135, 90, 155, 112), "playground", capacity=0),
        OpenSpace("O-GR1", B(100, 95, 130, 115), "green"),
    ]
    grids = [
        Grid("GR-W", B(0, 0, 85, 120), "Wang Li", ["B01", "B03"]),
        Grid("GR-E", B(85, 0, 160, 120), "Zhao Min", ["B02", "B04"]),
    ]
    devices: list[Device] = [
        Device("cam-gate-south-1", DeviceKind.CAMERA, P(92, 2),
               camera=CameraSpec(mount_height_m=4.0, yaw_deg=0.0, fov_deg=80, range_m=30)),
        Device("cam-gate-west-1", DeviceKind.CAMERA, P(2, 65),
               camera=CameraSpec(mount_height_m=3.5, yaw_deg=100.0, fov_deg=70, range_m=25)),
        Device("cam-square-1", DeviceKind.CAMERA, P(56, 61),
               camera=CameraSpec(mount_height_m=5.0, yaw_deg=225.0, fov_deg=90, range_m=28)),
        Device("cam-b02-lobby", DeviceKind.CAMERA, P(114, 64), building="B02", level=0,
               camera=CameraSpec(mount_height_m=2.6, yaw_deg=180.0, fov_deg=100, range_m=10)),
        Device("cam-garage-1", DeviceKind.CAMERA, P(100, 30), building="B04", level=-1,
               camera=CameraSpec(mount_height_m=2.8, yaw_deg=90.0, fov_deg=90, range_m=25)),
        Device("heat-garage-1", DeviceKind.HEAT_DETECTOR, P(95, 25), building="B04", level=-1, z=3.3),
        Device("heat-garage-2", DeviceKind.HEAT_DETECTOR, P(120, 25), building="B04", level=-1, z=3.3),
        Device("wl-garage-1", DeviceKind.WATER_LEVEL, P(82, 32), building="B04", level=-1),
        Device("mh-1", DeviceKind.MANHOLE, P(88, 30)),
        Device("mh-2", DeviceKind.MANHOLE, P(60, 20)),
        Device("btn-square-1", DeviceKind.EMERGENCY_BUTTON, P(31, 59), z=1.2),
        Device("door-B01-E1", DeviceKind.DOOR_SENSOR, P(27, 72), building="B01", level=0, z=2.0),
        Device("door-B02-E1", DeviceKind.DOOR_SENSOR, P(114, 62), building="B02", level=0, z=2.2),
    ]
    for b in (b1, b2):
        for lvl in range(b.storeys):
            for k, unit in enumerate(b.unit_ids(lvl)):
                x0, y0, x1, y1 = b.footprint.bounds
                x = x0 + (k + 0.5) * (x1 - x0) / b.households_per_storey
                devices.append(Device(f"sd-{unit}", DeviceKind.SMOKE_DETECTOR, Point(x, (y0 + y1) / 2),
                                      building=b.id, level=lvl, unit=unit, z=2.6))
    devices.append(Device("wb-B01-L05-U01", DeviceKind.WRISTBAND, P(20, 78), building="B01",
                          level=5, unit="B01-L05-U01"))
    site = Site(
        name="Viz test estate", boundary=B(0, 0, 160, 120), buildings=[b1, b2, b3, b4], ways=ways,
        gates=gates, open_spaces=opens, grids=grids, devices=devices, terrain=terrain,
        source="tests/unit/viz/conftest.py",
    )
    return site.validate()


@pytest.fixture
def small_site() -> Site:
    return build_small_site()


@pytest.fixture
def site_factory():  # type: ignore[no-untyped-def]
    """``build_small_site`` itself, for tests that need a moved copy (``offset=``)."""
    return build_small_site
