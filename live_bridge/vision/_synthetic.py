"""A small YOLO-format ONNX "bright blob" detector, generated with the ``onnx`` helper API.

Used by the tests and the benchmark in place of real YOLO weights (none ship with Shoumen).
It is a real ONNX graph run by ONNX Runtime, not a mock: its output is computed from the input
image, so its boxes follow whatever bright rectangles are in the frame.

Graph (input ``images`` (1, 3, S, S) float RGB 0..1, opset 17):
grey = mean over channels; mask = grey > 0.5; the extent (x min/max, y min/max) of mask pixels
is found with MaxPools over the mask times coordinate ramps: first over 4 x 4 blocks (exact, the
ramps carry the coordinates), then separably over a window of about ``2K + 1`` px; anchors every
``stride`` px take the extent around them as the box and "any mask pixel in the anchor's block"
as the score. Anchors inside one blob all see the same blob (when the blob
is at most K px across and other blobs are more than K px away) and so give the same box,
which NMS merges. Output is YOLOv8 ``(1, 5, N)`` (one class, ``person``) or YOLOv5 ``(1, N, 6)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

__all__ = ["build_blob_detector"]

_B = 4  # pooling block (px)


def build_blob_detector(path: str | Path, *, size: int = 320, window: int = 48, stride: int = 8,
                        layout: Literal["yolov5", "yolov8"] = "yolov8", name: str = "person") -> Path:
    """Write the blob detector for input ``size`` x ``size`` to ``path`` and return the path.
    ``window`` is K (net px), ``stride`` the anchor spacing."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if size % 32 or size <= 0:
        raise ValueError(f"blob detector: 'size' must be a positive multiple of 32, got {size!r}")
    if size % stride or stride < _B or stride % _B:
        raise ValueError(f"blob detector: 'stride' must be a multiple of {_B} dividing 'size', got {stride!r}")
    wb = -(-window // _B)  # window in blocks
    kb = 2 * wb + 1
    sb = stride // _B  # anchor spacing in blocks
    xs = np.arange(1, size + 1, dtype=np.float32)
    xg = np.broadcast_to(xs[None, :], (size, size))[None, None].copy()
    yg = np.broadcast_to(xs[:, None], (size, size))[None, None].copy()
    s1 = np.float32(size + 1)
    a = size // stride
    inits = [
        numpy_helper.from_array(xg, "xg"), numpy_helper.from_array(s1 - xg, "rxg"),
        numpy_helper.from_array(yg, "yg"), numpy_helper.from_array(s1 - yg, "ryg"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.array(size + 1, np.float32), "s1"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(2.0, np.float32), "two"),
        numpy_helper.from_array(np.array([sb // 2, sb // 2], np.int64), "st"),
        numpy_helper.from_array(np.array([size // _B, size // _B], np.int64), "en"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "ax"),
        numpy_helper.from_array(np.array([sb, sb], np.int64), "sp"),
        numpy_helper.from_array(np.array([1, -1, a * a], np.int64), "shp"),
    ]
    n = [
        helper.make_node("ReduceMean", ["images"], ["grey"], axes=[1], keepdims=1),
        helper.make_node("Greater", ["grey", "half"], ["maskb"]),
        helper.make_node("Cast", ["maskb"], ["mask"], to=TensorProto.FLOAT),
    ]
    n.append(helper.make_node("MaxPool", ["mask"], ["mask_b"], kernel_shape=[_B, _B], strides=[_B, _B]))
    for src, ramp in (("mx", "xg"), ("rx", "rxg"), ("my", "yg"), ("ry", "ryg")):
        n += [
            helper.make_node("Mul", ["mask", ramp], [src]),
            # max over 4 x 4 blocks first (exact: the ramps carry the coordinates), then the window
            helper.make_node("MaxPool", [src], [src + "_b"], kernel_shape=[_B, _B], strides=[_B, _B]),
            helper.make_node("MaxPool", [src + "_b"], [src + "_h"], kernel_shape=[1, kb], pads=[0, wb, 0, wb]),
            helper.make_node("MaxPool", [src + "_h"], [src + "_p"], kernel_shape=[kb, 1], pads=[wb, 0, wb, 0]),
            helper.make_node("Slice", [src + "_p", "st", "en", "ax", "sp"], [src + "_a"]),
        ]
    n += [
        helper.make_node("Sub", ["s1", "rx_a"], ["xmin"]),
        helper.make_node("Sub", ["s1", "ry_a"], ["ymin"]),
        helper.make_node("Slice", ["mask_b", "st", "en", "ax", "sp"], ["score"]),
        # x1 = xmin - 1, x2 = xmax (1-based ramps): cx = (xmin - 1 + xmax) / 2, w = xmax - xmin + 1
        helper.make_node("Add", ["xmin", "mx_a"], ["sx"]), helper.make_node("Sub", ["sx", "one"], ["sx1"]),
        helper.make_node("Div", ["sx1", "two"], ["cx"]),
        helper.make_node("Add", ["ymin", "my_a"], ["sy"]), helper.make_node("Sub", ["sy", "one"], ["sy1"]),
        helper.make_node("Div", ["sy1", "two"], ["cy"]),
        helper.make_node("Sub", ["mx_a", "xmin"], ["w0"]), helper.make_node("Add", ["w0", "one"], ["w"]),
        helper.make_node("Sub", ["my_a", "ymin"], ["h0"]), helper.make_node("Add", ["h0", "one"], ["h"]),
    ]
    if layout == "yolov8":
        n += [helper.make_node("Concat", ["cx", "cy", "w", "h", "score"], ["cat"], axis=1),
              helper.make_node("Reshape", ["cat", "shp"], ["output0"])]
        out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 5, a * a])
    elif layout == "yolov5":
        # objectness = the mask at the anchor; class probability 1 (Max(score, 1) = 1 everywhere)
        n += [helper.make_node("Max", ["score", "one"], ["cls"]),
              helper.make_node("Concat", ["cx", "cy", "w", "h", "score", "cls"], ["cat"], axis=1),
              helper.make_node("Reshape", ["cat", "shp"], ["flat"]),
              helper.make_node("Transpose", ["flat"], ["output0"], perm=[0, 2, 1])]
        out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, a * a, 6])
    else:
        raise ValueError(f"blob detector: 'layout' must be 'yolov5' or 'yolov8', got {layout!r}")
    graph = helper.make_graph(n, "blob_detector",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
                              [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="shoumen")
    model.ir_version = 8
    meta = model.metadata_props.add()
    meta.key, meta.value = "names", repr({0: name})
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, str(path))
    return path
