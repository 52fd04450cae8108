"""Camera analytics (live_bridge.vision): a YOLO-format ONNX detector generated in the test
(bright-blob graph, run by ONNX Runtime), synthetic frames of moving blobs, SORT tracking, zone
rules in site coordinates, and the shipped CenterFace / RapidOCR models on real images."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from shapely.geometry import Point

from geometry.site import CameraSpec, Device, DeviceKind
from live_bridge.vision import (
    CameraAnalytics,
    CrossingLine,
    CrowdZone,
    Detections,
    FaceBlurrer,
    Frame,
    GroundHomography,
    ImageFolderSource,
    IntrusionZone,
    LoiteringZone,
    PlateReader,
    SnapshotWriter,
    SortTracker,
    VideoSource,
    VisionError,
    YoloDetector,
    decode_yolo,
    letterbox,
    nms,
    open_source,
)
from live_bridge.vision._synthetic import build_blob_detector
from live_bridge.vocabulary import PlateHasher, parse_event

T0 = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)
W, H = 640, 480
FPS = 5.0
CAM = "cam-gate-north-1"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("models")
    return {
        "v8": build_blob_detector(d / "blob_v8.onnx", size=320, window=48, layout="yolov8"),
        "v5": build_blob_detector(d / "blob_v5.onnx", size=320, window=48, layout="yolov5"),
        "car": build_blob_detector(d / "blob_car.onnx", size=320, window=210, layout="yolov8", name="car"),
    }


@pytest.fixture(scope="module")
def detector(models: dict[str, Path]) -> YoloDetector:
    return YoloDetector(models["v8"], threads=1)


@pytest.fixture(scope="module")
def flat() -> GroundHomography:
    """Image px -> site m: x = u / 20, y = (480 - v) / 20 (a camera looking straight down)."""
    img = [(0, 0), (640, 0), (640, 480), (0, 480), (320, 240)]
    site = [(u / 20.0, (480 - v) / 20.0) for u, v in img]
    return GroundHomography.from_points(img, site)


def scene(blobs: list[tuple[float, float]], *, size: tuple[int, int] = (40, 80)) -> np.ndarray:
    """A dark BGR frame with bright person-sized rectangles whose foot (bottom centre) is at
    each (u, v) px."""
    img = np.full((H, W, 3), 30, np.uint8)
    bw, bh = size
    for u, v in blobs:
        x1, y1 = int(round(u - bw / 2)), int(round(v - bh))
        img[max(0, y1):int(v), max(0, x1):x1 + bw] = 230
    return img


def frames(positions: list[list[tuple[float, float]]]) -> list[Frame]:
    return [Frame(scene(p), k, T0 + timedelta(seconds=k / FPS)) for k, p in enumerate(positions)]


def walk(u0: float, u1: float, step: float, v: float = 400.0) -> list[list[tuple[float, float]]]:
    n = int(round(abs(u1 - u0) / step)) + 1
    sgn = 1 if u1 >= u0 else -1
    return [[(u0 + sgn * step * k, v)] for k in range(n)]


def analytics(detector: YoloDetector, flat: GroundHomography, rules: list, **kw: object) -> CameraAnalytics:
    return CameraAnalytics(CAM, detector=detector, homography=flat, rules=rules, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ detector
def test_generated_detector_finds_the_rectangles_in_both_layouts(models: dict[str, Path]) -> None:
    img = scene([(220, 180), (470, 380)])
    for key in ("v8", "v5"):
        det = YoloDetector(models[key], threads=1)
        assert det.names == ("person",)
        assert det.input_size == (320, 320)
        r = det(img)
        assert len(r) == 2
        order = np.argsort(r.boxes[:, 0])
        np.testing.assert_allclose(r.boxes[order], [[200, 100, 240, 180], [450, 300, 490, 380]], atol=1.0)
        assert r.name(0) == "person"
    assert len(YoloDetector(models["v8"])(np.full((H, W, 3), 30, np.uint8))) == 0


def test_letterbox_and_decode_map_boxes_back_to_the_image() -> None:
    img = np.zeros((240, 640, 3), np.uint8)
    blob, lb = letterbox(img, (320, 320))
    assert blob.shape == (1, 3, 320, 320) and blob.dtype == np.float32
    assert lb.r == pytest.approx(0.5) and lb.pad_x == 0 and lb.pad_y == 100
    assert blob[0, :, 0, 0] == pytest.approx([114 / 255] * 3)  # grey padding
    # YOLOv8 raw output: two overlapping boxes of class 1 and one of class 0, in network px
    raw = np.zeros((1, 4 + 2, 3), np.float32)
    raw[0, :4, 0] = [100, 150, 20, 40]; raw[0, 5, 0] = 0.9
    raw[0, :4, 1] = [101, 151, 20, 40]; raw[0, 5, 1] = 0.8  # suppressed by the first
    raw[0, :4, 2] = [100, 150, 20, 40]; raw[0, 4, 2] = 0.7  # other class: kept
    d = decode_yolo(raw, layout="yolov8", lb=lb, image_size=(640, 240), names=("a", "b"))
    assert len(d) == 2 and sorted(d.classes.tolist()) == [0, 1]
    np.testing.assert_allclose(d.boxes[0], [180, 60, 220, 140])  # (150 - 100) / 0.5 = 100 centre
    # "auto" tells the layouts apart by shape when anchors outnumber channels (every real model)
    big = np.zeros((1, 6, 100), np.float32)
    big[:, :, :3] = raw
    assert len(decode_yolo(big, lb=lb, image_size=(640, 240))) == 2
    # YOLOv5 layout: score = objectness * class probability
    raw5 = np.array([[[100, 150, 20, 40, 0.5, 0.2, 0.9]]], np.float32)
    d5 = decode_yolo(raw5, layout="yolov5", score_threshold=0.25)
    assert d5.scores == pytest.approx([0.45]) and d5.classes.tolist() == [1]
    assert len(decode_yolo(raw5, layout="yolov5", score_threshold=0.5)) == 0


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    keep = nms(boxes, np.array([0.6, 0.9, 0.5]), iou_threshold=0.5)
    assert keep.tolist() == [1, 2]
    assert nms(boxes, np.array([0.6, 0.9, 0.5]), iou_threshold=0.7).tolist() == [1, 0, 2]


# ------------------------------------------------------------------------------ tracking
def test_tracker_keeps_one_id_for_a_moving_blob(detector: YoloDetector) -> None:
    tr = SortTracker()
    ids = set()
    for f in frames(walk(40, 600, 20)):
        tracks = tr.update(detector(f.image))
        assert len(tracks) == 1
        ids.add(tracks[0].id)
    assert ids == {1}


def test_tracker_keeps_ids_of_two_blobs_crossing_paths_apart(detector: YoloDetector) -> None:
    # two blobs moving in opposite directions on rows 120 px apart (farther than the detector's window)
    tr = SortTracker()
    pos = [[(60 + 16 * k, 200.0), (580 - 16 * k, 420.0)] for k in range(30)]
    first: dict[int, float] = {}
    for f in frames(pos):
        for t in tr.update(detector(f.image)):
            first.setdefault(t.id, t.foot[1])
            assert t.foot[1] == pytest.approx(first[t.id], abs=1.0)  # an id never jumps rows
    assert sorted(first) == [1, 2]


def test_fast_small_object_keeps_its_id_through_the_centroid_gate(detector: YoloDetector) -> None:
    # 50 px per frame with 40 px wide boxes: consecutive boxes never overlap (IoU 0)
    tr = SortTracker()
    ids = [t.id for f in frames(walk(40, 590, 50)) for t in tr.update(detector(f.image))]
    assert set(ids) == {1} and len(ids) == 12
    no_gate = SortTracker(centroid_gate=0.0)
    ids2 = {t.id for f in frames(walk(40, 590, 50)) for t in no_gate.update(detector(f.image))}
    assert len(ids2) > 1  # pure IoU association loses it


# ------------------------------------------------------------------------------ homography
def test_homography_from_points_maps_image_points_to_site_coordinates(flat: GroundHomography) -> None:
    np.testing.assert_allclose(flat.image_to_site([(100, 400), (640, 0)]), [(5.0, 4.0), (32.0, 24.0)], atol=1e-9)
    np.testing.assert_allclose(flat.site_to_image([(5.0, 4.0)]), [(100, 400)], atol=1e-9)
    assert flat.rms_error_m < 1e-9


def test_perspective_homography_from_camera_spec_and_from_survey_points_agree() -> None:
    spec = CameraSpec(mount_height_m=6.0, yaw_deg=30.0, fov_deg=90.0, tilt_deg=20.0)
    dev = Device("cam-1", DeviceKind.CAMERA, Point(100.0, 50.0), camera=spec)
    cam = GroundHomography.from_device(dev, image_size=(1920, 1080))
    # a point straight ahead on the ground: at distance h / tan(tilt) it is at the image centre
    d = 6.0 / math.tan(math.radians(20.0))
    ahead = (100 + d * math.sin(math.radians(30)), 50 + d * math.cos(math.radians(30)))
    np.testing.assert_allclose(cam.site_to_image([ahead]), [(960, 540)], atol=1e-6)
    # survey six ground points with the camera model, fit a homography from them
    site = np.array([(105, 60), (110, 58), (98, 70), (115, 75), (104, 85), (120, 66)], float)
    img = cam.site_to_image(site)
    assert ((img[:, 0] >= 0) & (img[:, 0] <= 1920) & (img[:, 1] >= 0) & (img[:, 1] <= 1080)).all()
    fit = GroundHomography.from_points(img, site)
    assert fit.rms_error_m < 1e-6
    probe_px = [(300, 900), (1500, 700), (960, 540)]
    np.testing.assert_allclose(fit.image_to_site(probe_px), cam.image_to_site(probe_px), atol=1e-5)
    np.testing.assert_allclose(fit.image_to_site([(960, 540)])[0], ahead, atol=1e-6)
    # above the horizon is not ground
    assert np.isnan(cam.image_to_site([(960, 5)])).all()
    assert np.isnan(fit.image_to_site([(960, 5)])).all()


def test_homography_bad_inputs_say_what_is_wrong() -> None:
    with pytest.raises(VisionError, match="at least 4"):
        GroundHomography.from_points([(0, 0), (1, 0), (0, 1)], [(0, 0), (1, 0), (0, 1)])
    with pytest.raises(VisionError, match="same number"):
        GroundHomography.from_points([(0, 0), (1, 0), (0, 1), (1, 1)], [(0, 0), (1, 0), (0, 1)])
    with pytest.raises(VisionError, match="collinear"):
        GroundHomography.from_points([(0, 0), (1, 0), (2, 0), (3, 0)], [(0, 0), (1, 0), (2, 0), (3, 0)])
    with pytest.raises(VisionError, match="image_px"):
        GroundHomography.from_points([(0, 0, 1)] * 4, [(0, 0)] * 4, source="cams.yaml")
    with pytest.raises(VisionError, match="tilt_deg"):
        GroundHomography.from_camera(position=(0, 0), mount_height_m=3, yaw_deg=0, tilt_deg=0, fov_deg=90,
                                     image_size=(640, 480))
    with pytest.raises(VisionError, match="camera optics"):
        GroundHomography.from_device(Device("smk-1", DeviceKind.SMOKE_DETECTOR, Point(0, 0)), image_size=(640, 480))


# ------------------------------------------------------------------------------ zone rules
def test_intrusion_fires_once_when_the_blob_enters_the_zone(detector: YoloDetector, flat: GroundHomography) -> None:
    # zone x 15..20 m (u 300..400 px); the blob's foot u = 40 + 20 k is on the edge at k = 13
    # (u = 300, not inside) and inside from k = 14
    zone = IntrusionZone("fire-lane-1", [(15, 2), (20, 2), (20, 6), (15, 6)])
    a = analytics(detector, flat, [zone])
    fs = frames(walk(40, 600, 20))
    events = [(f.index, e) for f in fs for e in a.process(f).events]
    assert len(events) == 1
    k, ev = events[0]
    assert k == 14
    assert ev.type == "cn.shoumen.camera.intrusion" and ev.subject == CAM
    assert ev.data.zone == "fire-lane-1" and ev.data.track == "1"
    assert ev.time == fs[14].time
    assert parse_event(ev.to_json()) == ev  # a valid bridge event


def test_loitering_after_the_dwell_and_not_for_a_passer_by(detector: YoloDetector, flat: GroundHomography) -> None:
    zone = [(15, 2), (20, 2), (20, 6), (15, 6)]
    # stands at u 350 (x 17.5 m) for 4 s at 5 fps
    stay = analytics(detector, flat, [LoiteringZone("bike-shed", zone, dwell_s=2.0)])
    fs = frames([[(350.0, 400.0)]] * 20)
    hits = [(f.index, e) for f in fs for e in stay.process(f).events]
    assert [k for k, _ in hits] == [10]  # 10 frames at 0.2 s = 2.0 s after the first sighting
    assert hits[0][1].data.dwell_s == pytest.approx(2.0)
    assert hits[0][1].type == "cn.shoumen.camera.loitering"
    # walking through the same zone takes 1 s: no loitering
    walk_by = analytics(detector, flat, [LoiteringZone("bike-shed", zone, dwell_s=2.0)])
    assert not [e for f in frames(walk(40, 600, 20)) for e in walk_by.process(f).events]


def test_line_crossing_direction(detector: YoloDetector, flat: GroundHomography) -> None:
    # line x = 10 m from south (a) to north (b): its left side is west, so eastward is "out"
    def run(path: list[list[tuple[float, float]]]) -> tuple[list, list]:
        line = CrossingLine("gate-line", (10.0, 0.0), (10.0, 20.0), alarm_directions=("in",))
        a = analytics(detector, flat, [line])
        res = [a.process(f) for f in frames(path)]
        return [c for r in res for c in r.crossings], [e for r in res for e in r.events]

    cross, events = run(walk(40, 400, 20))
    assert [c.direction for c in cross] == ["out"] and not events
    assert cross[0].x == pytest.approx(10.0) and cross[0].y == pytest.approx(4.0)
    cross, events = run(walk(400, 40, 20))
    assert [c.direction for c in cross] == ["in"]
    assert len(events) == 1 and events[0].type == "cn.shoumen.camera.intrusion"
    assert events[0].data.zone == "gate-line" and events[0].data.track == "1"
    # a path that passes beyond the segment's end does not cross it
    short = CrossingLine("short", (10.0, 10.0), (10.0, 20.0), alarm_directions=("in", "out"))
    a = analytics(detector, flat, [short])
    assert not [e for f in frames(walk(40, 400, 20)) for e in a.process(f).events]


def test_crowd_count_over_the_threshold(detector: YoloDetector, flat: GroundHomography) -> None:
    zone = [(0, 0), (32, 0), (32, 10), (0, 10)]
    three = [(100.0, 400.0), (300.0, 400.0), (500.0, 400.0)]
    crowd = CrowdZone("square", zone, min_count=3)
    a = analytics(detector, flat, [crowd])
    events = [e for f in frames([three] * 5) for e in a.process(f).events]
    assert len(events) == 1 and events[0].type == "cn.shoumen.camera.crowding"
    assert events[0].data.count == 3 and crowd.count == 3
    b = analytics(detector, flat, [CrowdZone("square", zone, min_count=3)])
    assert not [e for f in frames([three[:2]] * 5) for e in b.process(f).events]


def test_rules_reject_bad_settings() -> None:
    with pytest.raises(VisionError, match="not a valid polygon"):
        IntrusionZone("z", [(0, 0), (1, 1), (1, 0), (0, 1)])  # a bow tie
    with pytest.raises(VisionError, match="at least 3"):
        IntrusionZone("z", [(0, 0), (1, 1)])
    with pytest.raises(VisionError, match="dwell_s"):
        LoiteringZone("z", [(0, 0), (1, 0), (1, 1)], dwell_s=-1)
    with pytest.raises(VisionError, match="min_count"):
        CrowdZone("z", [(0, 0), (1, 0), (1, 1)], min_count=0)
    with pytest.raises(VisionError, match="length > 0"):
        CrossingLine("l", (1, 1), (1, 1))
    with pytest.raises(VisionError, match="alarm_directions"):
        CrossingLine("l", (0, 0), (1, 1), alarm_directions=("up",))  # type: ignore[arg-type]
    with pytest.raises(VisionError, match="'id'"):
        IntrusionZone("", [(0, 0), (1, 0), (1, 1)])


def test_analytics_rejects_bad_settings(detector: YoloDetector, flat: GroundHomography) -> None:
    z = [(0, 0), (1, 0), (1, 1)]
    with pytest.raises(VisionError, match="unique"):
        analytics(detector, flat, [IntrusionZone("a", z), CrowdZone("a", z, min_count=2)])
    with pytest.raises(VisionError, match="device_id"):
        CameraAnalytics("", detector=detector, homography=flat)
    with pytest.raises(VisionError, match="homography"):
        CameraAnalytics(CAM, detector=detector, homography=np.eye(3))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ sources
def test_image_folder_and_video_sources(tmp_path: Path, detector: YoloDetector, flat: GroundHomography) -> None:
    fs = frames(walk(40, 400, 40))
    folder = tmp_path / "imgs"
    folder.mkdir()
    for f in fs:
        cv2.imwrite(str(folder / f"f{f.index}.png"), f.image)  # f10 after f9 by natural order
    src = ImageFolderSource(folder, fps=FPS, start=T0)
    got = list(src)
    assert len(got) == len(fs) and [g.index for g in got] == list(range(len(fs)))
    assert all(np.array_equal(g.image, f.image) for g, f in zip(got, fs))
    assert got[3].time == T0 + timedelta(seconds=0.6)
    video = tmp_path / "walk.avi"
    wr = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (W, H))
    assert wr.isOpened()
    for f in fs:
        wr.write(f.image)
    wr.release()
    vs = open_source(video, start=T0)
    assert isinstance(vs, VideoSource)
    vf = list(vs)
    assert len(vf) == len(fs)
    assert (vf[5].time - T0).total_seconds() == pytest.approx(1.0, abs=0.21)
    # the decoded video drives the same pipeline to the same single track
    a = analytics(detector, flat, [IntrusionZone("z", [(15, 2), (20, 2), (20, 6), (15, 6)])])
    res = [a.process(f) for f in vf]
    assert {t.id for r in res for t in r.tracks} == {1}


def test_sources_reject_bad_input(tmp_path: Path) -> None:
    with pytest.raises(VisionError, match="does not exist"):
        ImageFolderSource(tmp_path / "nope")
    with pytest.raises(VisionError, match="no images"):
        ImageFolderSource(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(VisionError, match="fps"):
        ImageFolderSource(tmp_path, fps=0)
    with pytest.raises(VisionError, match="broken.png.*could not be decoded"):
        list(ImageFolderSource(tmp_path))
    with pytest.raises(VisionError, match="timezone-aware"):
        ImageFolderSource(tmp_path, start=datetime(2025, 1, 1))
    with pytest.raises(VisionError, match="expected an image folder"):
        open_source(tmp_path / "missing.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(VisionError, match="could not be opened"):
        list(VideoSource(bad))
    # credentials in a stream URL never reach messages
    with pytest.raises(VisionError) as ei:
        VideoSource("rtsp://admin:s3cret@192.0.2.1:554/s1", every=0)
    assert "s3cret" not in str(ei.value) and "***@" in str(ei.value)


def test_detector_rejects_bad_models(tmp_path: Path, models: dict[str, Path]) -> None:
    with pytest.raises(VisionError, match="does not exist"):
        YoloDetector(tmp_path / "yolov8n.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    with pytest.raises(VisionError, match="junk.onnx: not a loadable ONNX model"):
        YoloDetector(junk)
    with pytest.raises(VisionError, match="score_threshold"):
        YoloDetector(models["v8"], score_threshold=2.0)
    with pytest.raises(VisionError, match="differs from the model's fixed input"):
        YoloDetector(models["v8"], input_size=(640, 640))
    with pytest.raises(VisionError, match="expected a"):
        decode_yolo(np.zeros((2, 3, 4, 5)))
    with pytest.raises(VisionError, match="BGR uint8"):
        YoloDetector(models["v8"])(np.zeros((10, 10), np.float32))


# ------------------------------------------------------------------------------ privacy
def test_snapshots_have_no_detectable_face(tmp_path: Path) -> None:
    skdata = pytest.importorskip("skimage.data")
    astronaut = np.ascontiguousarray(skdata.astronaut()[:, :, ::-1])  # RGB -> BGR
    faces = FaceBlurrer()
    found = faces.detect(astronaut)
    assert len(found) == 1 and found[0, 4] > 0.8  # the model sees her face
    x1, y1, x2, y2 = found[0, :4]
    assert 150 < (x1 + x2) / 2 < 300 and 50 < (y1 + y2) / 2 < 200
    writer = SnapshotWriter(tmp_path / "snaps", face_blurrer=faces)
    path = writer.write(astronaut, "cam-1_intrusion_z_1_0")
    stored = cv2.imread(str(path))
    assert stored is not None and stored.shape == astronaut.shape
    assert len(FaceBlurrer().detect(stored)) == 0
    # the rest of the picture is kept
    assert np.abs(stored[400:, :100].astype(int) - astronaut[400:, :100]).mean() < 6
    with pytest.raises(VisionError, match="snapshot name"):
        writer.write(astronaut, "../escape")


def _plate_frame() -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (W, H), (25, 25, 25))
    d = ImageDraw.Draw(img)
    d.rectangle([120, 180, 519, 299], fill=(245, 245, 245))
    d.text((150, 200), "AB 12345", fill=(10, 10, 10), font=ImageFont.load_default(size=72))
    return np.ascontiguousarray(np.asarray(img)[:, :, ::-1])


def test_plates_are_read_and_stored_only_as_keyed_hashes(tmp_path: Path, models: dict[str, Path],
                                                          flat: GroundHomography) -> None:
    hasher = PlateHasher(b"0123456789abcdef-site-key", key_id="k7")
    reader = PlateReader(hasher)
    frame = _plate_frame()
    reads = reader.read(frame)
    assert len(reads) == 1
    assert reads[0].plate_hmac == hasher.hash("AB12345") and reads[0].key_id == "k7"
    assert "12345" not in repr(reads[0])
    # the pipeline: the generated detector finds the plate's bright panel as a "car"
    snaps = tmp_path / "snaps"
    a = CameraAnalytics(CAM, detector=YoloDetector(models["car"]), homography=flat, classes=(),
                        plate_reader=reader, plate_classes=("car",),
                        snapshots=SnapshotWriter(snaps, plate_reader=reader, fmt="png"))
    res = [a.process(Frame(frame, k, T0 + timedelta(seconds=k))) for k in range(3)]
    events = [e for r in res for e in r.events]
    assert [e.type for e in events] == ["cn.shoumen.camera.licence_plate"]  # read once per track
    ev = events[0]
    assert ev.data.plate_hmac == hasher.hash("AB 12345") and ev.data.key_id == "k7"
    text = ev.to_json()
    assert parse_event(text) == ev
    stored_files = [p for p in snaps.rglob("*") if p.is_file()]
    assert len(stored_files) == 1
    for needle in ("AB12345", "12345", "AB 12345"):
        assert needle not in text and needle not in json.dumps(ev.to_dict())
        for p in stored_files:
            assert needle.encode() not in p.read_bytes() and needle not in p.name
    # the stored image cannot be read back either
    stored = cv2.imread(str(stored_files[0]))
    assert not any("123" in r[1] for r in (reader._ocr(stored)[0] or []))
    with pytest.raises(VisionError, match="PlateHasher"):
        PlateReader("key")  # type: ignore[arg-type]


def test_detections_filter_by_class_name() -> None:
    d = Detections(np.array([[0, 0, 1, 1], [1, 1, 2, 2]], float), np.array([0.9, 0.8]), np.array([0, 2]),
                   ("person", "bicycle"))
    assert d.name(1) == "class2"
    assert len(d.only(["person"])) == 1 and len(d.only(["car"])) == 0
