"""Object detection with any YOLO-format ONNX model, run by ONNX Runtime on the CPU.

The user configures the model file (exported by Ultralytics ``yolo export format=onnx`` or
YOLOv5's ``export.py --include onnx``); nothing is downloaded at run time and no weights ship
with Shoumen. Two output layouts are decoded (Jocher et al., Ultralytics YOLOv5 v7.0 (2022)
and YOLOv8 (2023), https://github.com/ultralytics):

* ``yolov5``: ``(1, N, 5 + C)`` rows ``cx, cy, w, h, objectness, p_1 .. p_C``; a box's score is
  ``objectness * max p`` and its class the argmax.
* ``yolov8`` (also YOLOv9/v11): ``(1, 4 + C, N)`` columns ``cx, cy, w, h, p_1 .. p_C`` (no
  objectness); score ``max p``.

Box coordinates are pixels of the network input. Preprocessing is the YOLO *letterbox*: scale
the image by ``r = min(S_h / h, S_w / w)`` keeping its aspect, centre it on an ``S_h x S_w``
canvas of grey 114, BGR -> RGB, ``/ 255``, NCHW float32. Decoding undoes the letterbox
(subtract the padding, divide by ``r``) and clips to the image. Non-maximum suppression is
greedy per class (IoU above ``iou_threshold`` suppresses the lower score), vectorised in numpy.

Class names come from the model's metadata (Ultralytics stores ``names`` as a dict literal) or
from ``class_names``; without either, class ``k`` is called ``"class<k>"``.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from live_bridge.vision.sources import VisionError

__all__ = ["Detections", "Letterbox", "YoloDetector", "decode_yolo", "letterbox", "nms"]

Layout = Literal["auto", "yolov5", "yolov8"]


@dataclass(frozen=True)
class Detections:
    """Boxes in image pixels: ``boxes`` (n, 4) float ``x1, y1, x2, y2``; ``scores`` (n,) in 0..1;
    ``classes`` (n,) int class indices; ``names`` the model's class names by index."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def name(self, k: int) -> str:
        c = int(self.classes[k])
        return self.names[c] if 0 <= c < len(self.names) else f"class{c}"

    def only(self, names: Sequence[str]) -> Detections:
        """The detections whose class name is in ``names``."""
        keep = np.array([self.name(k) in names for k in range(len(self))], dtype=bool)
        return Detections(self.boxes[keep], self.scores[keep], self.classes[keep], self.names)

    @staticmethod
    def empty(names: tuple[str, ...] = ()) -> Detections:
        return Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), names)


@dataclass(frozen=True)
class Letterbox:
    """How an image was letterboxed: scale ``r`` and padding ``(pad_x, pad_y)`` in input pixels."""

    r: float
    pad_x: float
    pad_y: float


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """The YOLO network input for a BGR uint8 ``image``: (1, 3, H, W) float32 RGB in 0..1 for
    ``size = (H, W)``, and the :class:`Letterbox` to map boxes back."""
    import cv2

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise VisionError(f"image: expected a BGR uint8 array of shape (H, W, 3), got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    sh, sw = size
    r = min(sh / h, sw / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else image
    canvas = np.full((sh, sw, 3), 114, dtype=np.uint8)
    px, py = (sw - nw) / 2.0, (sh - nh) / 2.0
    x0, y0 = int(round(px - 0.1)), int(round(py - 0.1))
    canvas[y0:y0 + nh, x0:x0 + nw] = resized
    blob = cv2.dnn.blobFromImage(canvas, scalefactor=1.0 / 255.0, swapRB=True)
    return blob.astype(np.float32, copy=False), Letterbox(r, float(x0), float(y0))


def _iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    xx1 = np.maximum(box[0], boxes[:, 0])
    yy1 = np.maximum(box[1], boxes[:, 1])
    xx2 = np.minimum(box[2], boxes[:, 2])
    yy2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(xx2 - xx1, 0, None) * np.clip(yy2 - yy1, 0, None)
    a = (box[2] - box[0]) * (box[3] - box[1])
    b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(a + b - inter, 1e-12)


def nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray | None = None, *,
        iou_threshold: float = 0.45, max_detections: int = 300) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first. With ``classes``,
    boxes of different classes never suppress each other (boxes are offset per class)."""
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    b = boxes.astype(np.float64)
    if classes is not None:
        off = (classes.astype(np.float64) * (float(np.abs(b).max()) + 1.0))[:, None]
        b = b + off
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < max_detections:
        i = int(order[0])
        keep.append(i)
        if order.size == 1:
            break
        rest = order[1:]
        order = rest[_iou_one(b[i], b[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def decode_yolo(output: np.ndarray, *, layout: Layout = "auto", score_threshold: float = 0.25,
                iou_threshold: float = 0.45, lb: Letterbox | None = None,
                image_size: tuple[int, int] | None = None, names: tuple[str, ...] = ()) -> Detections:
    """Decode one raw YOLO output (batch of 1) into :class:`Detections` after NMS. ``lb`` and
    ``image_size = (W, H)`` map boxes back to the original image and clip them."""
    out = np.asarray(output, dtype=np.float32)
    if out.ndim == 3:
        if out.shape[0] != 1:
            raise VisionError(f"detector output: expected batch size 1, got shape {out.shape}")
        out = out[0]
    if out.ndim != 2:
        raise VisionError(f"detector output: expected a (1, N, 5+C) or (1, 4+C, N) array, got shape {output.shape}")
    if layout == "auto":
        # real models have far more anchors (N) than channels (4 + C or 5 + C)
        layout = "yolov8" if out.shape[0] < out.shape[1] else "yolov5"
    if layout == "yolov8":
        rows = out.T
        if rows.shape[1] < 5:
            raise VisionError(f"detector output: a YOLOv8 layout needs 4 + C >= 5 rows, got shape {output.shape}")
        cls_p = rows[:, 4:]
        obj = None
    elif layout == "yolov5":
        rows = out
        if rows.shape[1] < 6:
            raise VisionError(f"detector output: a YOLOv5 layout needs 5 + C >= 6 columns, got shape {output.shape}")
        cls_p = rows[:, 5:]
        obj = rows[:, 4]
    else:
        raise VisionError(f"field 'layout': expected 'auto', 'yolov5' or 'yolov8', got {layout!r}")
    classes = np.argmax(cls_p, axis=1)
    scores = cls_p[np.arange(rows.shape[0]), classes]
    if obj is not None:
        scores = scores * obj
    sel = scores > score_threshold
    if not sel.any():
        return Detections.empty(names)
    xywh = rows[sel, :4].astype(np.float64)
    scores, classes = scores[sel].astype(np.float64), classes[sel].astype(np.int64)
    boxes = np.empty_like(xywh)
    boxes[:, 0] = xywh[:, 0] - xywh[:, 2] / 2
    boxes[:, 1] = xywh[:, 1] - xywh[:, 3] / 2
    boxes[:, 2] = xywh[:, 0] + xywh[:, 2] / 2
    boxes[:, 3] = xywh[:, 1] + xywh[:, 3] / 2
    keep = nms(boxes, scores, classes, iou_threshold=iou_threshold)
    boxes, scores, classes = boxes[keep], scores[keep], classes[keep]
    if lb is not None:
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - lb.pad_x) / lb.r
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - lb.pad_y) / lb.r
    if image_size is not None:
        w, h = image_size
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, w)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, h)
    return Detections(boxes, scores, classes, names)


def _metadata_names(meta: dict[str, str]) -> tuple[str, ...]:
    raw = meta.get("names")
    if not raw:
        return ()
    try:
        val = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return ()
    if isinstance(val, dict):
        return tuple(str(val[k]) for k in sorted(val))
    if isinstance(val, (list, tuple)):
        return tuple(str(v) for v in val)
    return ()


class YoloDetector:
    """A YOLO ONNX model on ONNX Runtime (CPU). ``input_size = (H, W)`` is needed only when the
    model's input has dynamic spatial dimensions; ``threads`` caps ONNX Runtime's intra-op
    threads (default: its own choice)."""

    def __init__(self, model_path: str | Path, *, input_size: tuple[int, int] | None = None,
                 layout: Layout = "auto", score_threshold: float = 0.25, iou_threshold: float = 0.45,
                 class_names: Sequence[str] | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort

        path = Path(model_path)
        if not path.is_file():
            raise VisionError(f"detector model {str(path)!r} does not exist (configure the path of a YOLO .onnx "
                              "file; no weights are downloaded)")
        problems = []
        if not 0.0 <= score_threshold <= 1.0:
            problems.append(f"field 'score_threshold': expected a number in 0..1, got {score_threshold!r}")
        if not 0.0 < iou_threshold <= 1.0:
            problems.append(f"field 'iou_threshold': expected a number in (0, 1], got {iou_threshold!r}")
        if layout not in ("auto", "yolov5", "yolov8"):
            problems.append(f"field 'layout': expected 'auto', 'yolov5' or 'yolov8', got {layout!r}")
        if problems:
            raise VisionError(problems, source=str(path))
        opts = ort.SessionOptions()
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise VisionError(f"not a loadable ONNX model ({type(exc).__name__}: {str(exc)[:200]})",
                              source=str(path)) from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise VisionError("expected one image input of shape (1, 3, H, W)", source=str(path))
        self.input_name = inputs[0].name
        shape = inputs[0].shape
        static = tuple(d if isinstance(d, int) else None for d in shape[2:])
        if static[0] is not None and static[1] is not None:
            size = (int(static[0]), int(static[1]))
            if input_size is not None and tuple(input_size) != size:
                raise VisionError(f"field 'input_size' {tuple(input_size)} differs from the model's fixed input {size}",
                                  source=str(path))
        elif input_size is None:
            raise VisionError("the model's input size is dynamic; give input_size=(H, W), e.g. (640, 640)",
                              source=str(path))
        else:
            size = (int(input_size[0]), int(input_size[1]))
        if size[0] % 32 or size[1] % 32:
            raise VisionError(f"input size {size}: YOLO models need multiples of 32", source=str(path))
        self.input_size = size
        self.layout: Layout = layout
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        meta = self.session.get_modelmeta().custom_metadata_map
        self.names: tuple[str, ...] = tuple(class_names) if class_names is not None else _metadata_names(meta)
        self.path = path

    def __call__(self, image: np.ndarray) -> Detections:
        """Detect objects in a BGR uint8 image; boxes in the image's pixels."""
        blob, lb = letterbox(image, self.input_size)
        (raw,) = self.session.run(None, {self.input_name: blob})[:1]
        return decode_yolo(raw, layout=self.layout, score_threshold=self.score_threshold,
                           iou_threshold=self.iou_threshold, lb=lb,
                           image_size=(image.shape[1], image.shape[0]), names=self.names)
