"""Device registry: built from the sample site, checks events, registration persisted in SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from geometry.sample import sample_community
from geometry.site import CameraSpec
from live_bridge.registry import DeviceRegistry, RegisteredDevice, RegistryError
from live_bridge.store import AppendStatus, SqliteEventStore
from live_bridge.vocabulary import make_event


@pytest.fixture(scope="module")
def site():
    return sample_community()


def e(type_: str, subject: str, data: dict | None = None, i: str = "x"):
    return make_event(type_, id=f"{subject}-{i}", source="/t", subject=subject, time="2025-03-01T00:00:00Z",
                      data=data or {})


def test_built_from_site(tmp_path: Path, site) -> None:
    reg = DeviceRegistry(tmp_path / "db.sqlite", site=site)
    assert len(reg) == len(site.devices) + len(site.gates) + len({g.worker for g in site.grids})
    smk = reg.get("smk-B01-L00-U01")
    assert smk is not None and (smk.kind, smk.building, smk.level, smk.unit, smk.zone) == (
        "smoke_detector", "B01", 0, "B01-L00-U01", "GRID1")
    cam = reg.get("cam-gate-north-1")
    assert cam is not None and cam.camera is not None and cam.camera.fov_deg == 70.0
    assert reg.get("G-N").kind == "access_gate"
    reg.close()


def test_check_known_kind_and_reasons(tmp_path: Path, site) -> None:
    reg = DeviceRegistry(tmp_path / "db.sqlite", site=site)
    assert reg.check(e("cn.shoumen.smoke.alarm", "smk-B01-L00-U01")).ok
    assert reg.check(e("cn.shoumen.smoke.alarm", "heat-P01-01", {"sensing": "heat"})).ok
    assert reg.check(e("cn.shoumen.gate.passage", "G-N", {"direction": "in", "credential": "face"})).ok
    c = reg.check(e("cn.shoumen.smoke.alarm", "ghost-1"))
    assert not c.ok and c.reason == "unknown device 'ghost-1'"
    c = reg.check(e("cn.shoumen.smoke.alarm", "cam-gate-north-1"))
    assert c.reason == ("device 'cam-gate-north-1' is a camera; a cn.shoumen.smoke.alarm event needs "
                        "a smoke detector or heat detector")
    assert "needs a wristband" in reg.reject_reason(e("cn.shoumen.wristband.sos", "btn-B01-L00-U08"))
    assert reg.reject_reason(e("cn.shoumen.camera.thrown_object", "cam-B07-lobby", {"storey": 40})) is not None
    reg.close()


def test_registration_validated_and_persisted(tmp_path: Path, site) -> None:
    db = tmp_path / "db.sqlite"
    reg = DeviceRegistry(db, site=site)
    reg.add(RegisteredDevice(id="patrol-1", kind="patrol_tracker", zone="GRID2"))
    reg.update(RegisteredDevice(id="smk-B01-L00-U01", kind="smoke_detector", building="B01", level=1,
                                unit="B01-L01-U01"))
    reg.remove("wl-P01-1")
    with pytest.raises(RegistryError, match="already registered"):
        reg.add(RegisteredDevice(id="patrol-1", kind="patrol_tracker"))
    with pytest.raises(RegistryError, match="not registered"):
        reg.update(RegisteredDevice(id="nobody", kind="wristband"))
    with pytest.raises(RegistryError, match="not registered"):
        reg.remove("nobody")
    with pytest.raises(RegistryError) as info:
        reg.add(RegisteredDevice(id="bad id!", kind="toaster"))
    assert "field 'id'" in str(info.value) and "field 'kind'" in str(info.value)
    with pytest.raises(RegistryError, match="building 'B99'"):
        reg.add(RegisteredDevice(id="smk-x", kind="smoke_detector", building="B99"))
    with pytest.raises(RegistryError, match="field 'level' 30 is not a storey"):
        reg.add(RegisteredDevice(id="smk-x", kind="smoke_detector", building="B01", level=30))
    with pytest.raises(RegistryError, match="camera needs its optics"):
        reg.add(RegisteredDevice(id="cam-new", kind="camera"))
    with pytest.raises(RegistryError, match="field 'zone'"):
        reg.add(RegisteredDevice(id="patrol-2", kind="patrol_tracker", zone="GRID9"))
    reg.add(RegisteredDevice(id="cam-new", kind="camera", x=1.0, y=2.0, camera=CameraSpec(fov_deg=60.0)))
    reg.close()
    again = DeviceRegistry(db, site=site)  # the database wins over the site on reopen
    assert again.get("patrol-1").zone == "GRID2"
    assert again.get("smk-B01-L00-U01").level == 1
    assert again.get("wl-P01-1") is None
    assert again.get("cam-new").camera.fov_deg == 60.0
    again.close()


def test_store_dead_letters_rejected_events(tmp_path: Path, site) -> None:
    db = tmp_path / "db.sqlite"
    reg = DeviceRegistry(db, site=site)
    with SqliteEventStore(db, check=reg.reject_reason) as st:
        res = st.append_many([e("cn.shoumen.water.level", "wl-P01-2", {"level_m": 0.4}),
                              e("cn.shoumen.water.level", "cam-P01-1", {"level_m": 0.4}),
                              e("cn.shoumen.door.open", "nobody")])
        assert [r.status for r in res] == [AppendStatus.ACCEPTED, AppendStatus.REJECTED, AppendStatus.REJECTED]
        reasons = [d.reason for d in st.iter_dead_letters()]
        assert reasons[0].startswith("device 'cam-P01-1' is a camera") and reasons[1] == "unknown device 'nobody'"
        assert st.counters()["rejected"] == 2
    reg.close()
