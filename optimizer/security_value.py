"""What a camera plan buys in simulated security: the site's existing cameras against a plan of
:func:`optimizer.camera_sites.plan_cameras`, on the same incident stream (same seed, common
random numbers), through :func:`agents.security.compare_cameras` -- detection rate, time to
detect, response p50/p90 against the 15-minute target, incidents prevented, density and
coverage, and their differences (the funders' "what does each choice buy").

The plan covers outdoor ground only, so the site's indoor cameras (lobbies, garage) are kept
beside the plan's (``keep_indoor``); they do not see outdoor incidents either way."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.security import CameraComparison, compare_cameras, outdoor_camera_devices
from geometry.site import DeviceKind, Site
from optimizer.camera_sites import CameraPlan, plan_cameras

__all__ = ["camera_plan_security"]


def camera_plan_security(
    site: Site,
    *,
    days: float = 30.0,
    seed: int | np.random.SeedSequence = 0,
    plan: CameraPlan | None = None,
    keep_indoor: bool = True,
    plan_options: dict[str, Any] | None = None,
    **options: Any,
) -> tuple[CameraComparison, CameraPlan]:
    """Compare the site's cameras (``existing``) with ``plan`` (default: ``plan_cameras(site,
    **plan_options)``, the least-cost full cover) over ``days`` days; ``options`` go to
    :func:`agents.security.simulate_security`. Returns the comparison and the plan."""
    if plan is None:
        plan = plan_cameras(site, **(plan_options or {}))
    existing = site.devices_of(DeviceKind.CAMERA)
    outdoor = {d.id for d in outdoor_camera_devices(site, existing)}
    cams_b = list(plan.devices) + ([d for d in existing if d.id not in outdoor] if keep_indoor else [])
    cmp = compare_cameras(site, existing, cams_b, days=days, seed=seed, labels=("existing", "plan"), **options)
    return cmp, plan
