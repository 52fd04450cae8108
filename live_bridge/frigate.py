"""Map Frigate NVR's native MQTT messages to our camera-analytics events.

Frigate (https://frigate.video, docs/docs/integrations/mqtt.md) publishes on
``<prefix>/events`` one message per change of a tracked object -- ``type`` ``new``, ``update``
or ``end`` with ``before`` and ``after`` snapshots of the object (``id``, ``camera``, ``label``,
``score``, ``top_score``, ``false_positive``, ``start_time``/``end_time``/``frame_time`` in Unix
seconds, ``current_zones``, ``entered_zones``, ``sub_label``, ``recognized_license_plate`` ...)
-- and on ``<prefix>/reviews`` one message per change of a review item (``after.data`` with the
``detections`` (tracked-object ids), ``objects`` (labels), ``zones``).

Mapping (:func:`from_frigate`; one Frigate message gives zero or more events):

=======================================  ========================================================
Frigate                                  our event
=======================================  ========================================================
person, ``after.current_zones`` gains    ``cn.shoumen.camera.intrusion`` (one per zone; only
a zone (all its zones on ``new``)        ``intrusion_zones`` when given)
person present >= ``loiter_s`` (time     ``cn.shoumen.camera.loitering`` with ``dwell_s``
from ``start_time`` to ``end_time`` or   (one per track: later messages repeat the same id and
``frame_time``)                          are stored as duplicates)
label in ``fall_labels`` (a custom       ``cn.shoumen.camera.fall``
model's ``fall``/``person_fallen``)
vehicle (car, motorcycle, bus, truck)    ``cn.shoumen.camera.licence_plate``: plate HMAC only
with ``recognized_license_plate``        (the plain plate never leaves this function)
review whose objects are all ``person``  ``cn.shoumen.camera.crowding`` with ``count`` = number
with >= ``crowd_count`` detections       of tracked objects in the review
``false_positive`` true, other labels    nothing
=======================================  ========================================================

Event ids are deterministic (``frigate:<track>:intrusion:<zone>``, ``frigate:<track>:loitering``,
``frigate:<track>:plate:<hash prefix>``, ``frigate-review:<id>:crowding``), so a message that
MQTT redelivers, or the next ``update`` of the same track, is idempotent in the event store.
Event time is the Frigate ``frame_time`` of ``after`` (``end_time`` on ``end``; ``start_time`` when
neither is given). Thrown objects are not derivable from Frigate (no storey); falling-object
systems send ``cn.shoumen.camera.thrown_object`` themselves. ``camera_map`` maps Frigate camera
names to registry ids (default: the same name).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from live_bridge.vocabulary import EventError, LiveEvent, PlateHasher, _problems, make_event

__all__ = ["FRIGATE_VEHICLE_LABELS", "from_frigate", "redact_frigate_payload"]

#: Frigate labels that carry licence plates.
FRIGATE_VEHICLE_LABELS = ("car", "motorcycle", "bus", "truck")


class _Obj(BaseModel):
    """The parts of a Frigate tracked object we use (others are ignored)."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    camera: str = Field(min_length=1)
    label: str
    score: float | None = None
    top_score: float | None = None
    false_positive: bool = False
    start_time: float
    end_time: float | None = None
    frame_time: float | None = None
    current_zones: list[str] = []
    entered_zones: list[str] = []
    recognized_license_plate: Any = None


class _EventMsg(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(pattern="^(new|update|end)$")
    before: _Obj | None = None
    after: _Obj


class _ReviewData(BaseModel):
    model_config = ConfigDict(extra="ignore")
    detections: list[str] = []
    objects: list[str] = []
    zones: list[str] = []


class _Review(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1)
    camera: str = Field(min_length=1)
    start_time: float
    end_time: float | None = None
    severity: str = "detection"
    data: _ReviewData


class _ReviewMsg(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = Field(pattern="^(new|update|end)$")
    before: _Review | None = None
    after: _Review


def _ts(seconds: float, where: str) -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise EventError([f"field '{where}': expected Unix seconds >= 0, got {seconds!r}"], source="frigate")
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _plate_text(value: Any) -> str | None:
    """Frigate gives the plate as a string or as ``[plate, score]``."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        return value[0] or None
    return None


def _load(payload: Mapping[str, Any] | str | bytes, topic: str) -> Mapping[str, Any]:
    if isinstance(payload, (bytes, bytearray, str)):
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EventError([f"not valid JSON ({exc})"], source=topic) from exc
    if not isinstance(payload, Mapping):
        raise EventError([f"expected a JSON object, got {type(payload).__name__}"], source=topic)
    return payload


def from_frigate(
    topic: str,
    payload: Mapping[str, Any] | str | bytes,
    *,
    hasher: PlateHasher | None = None,
    source: str = "/frigate",
    camera_map: Mapping[str, str] | None = None,
    loiter_s: float = 60.0,
    crowd_count: int = 5,
    intrusion_zones: Sequence[str] | None = None,
    fall_labels: Sequence[str] = ("fall", "person_fallen", "fallen_person"),
) -> list[LiveEvent]:
    """Events for one Frigate MQTT message on ``topic`` (``<prefix>/events`` or
    ``<prefix>/reviews``; other topics raise). ``hasher`` is needed only when a plate is
    present (EventError otherwise, without the plate). Raises :class:`EventError` naming the
    Frigate field for malformed payloads; messages are never partially applied."""
    leaf = topic.rstrip("/").rsplit("/", 1)[-1]
    if leaf not in ("events", "reviews"):
        raise EventError([f"topic {topic!r}: expected '<prefix>/events' or '<prefix>/reviews'"], source="frigate")
    data = _load(payload, topic)
    cams = camera_map or {}
    if leaf == "reviews":
        try:
            msg = _ReviewMsg.model_validate(data)
        except ValidationError as exc:
            raise EventError(_problems(exc, strip_tag=False), source=topic) from None
        r = msg.after
        people = [o for o in r.data.objects if o == "person"]
        if not people or any(o != "person" for o in r.data.objects) or len(r.data.detections) < crowd_count:
            return []
        t = r.end_time if r.end_time is not None else r.start_time
        return [make_event("cn.shoumen.camera.crowding", id=f"frigate-review:{r.id}:crowding", source=source,
                           subject=cams.get(r.camera, r.camera), time=_ts(t, "after.start_time"),
                           data={"count": len(r.data.detections), "zone": r.data.zones[0] if r.data.zones else None,
                                 "track": r.id})]
    try:
        msg = _EventMsg.model_validate(data)
    except ValidationError as exc:
        raise EventError(_problems(exc, strip_tag=False), source=topic) from None
    a = msg.after
    if a.false_positive:
        return []
    cam = cams.get(a.camera, a.camera)
    now = a.end_time if (msg.type == "end" and a.end_time is not None) else (a.frame_time or a.start_time)
    when = _ts(now, "after.frame_time")
    conf = a.top_score if a.top_score is not None else a.score
    conf = None if conf is None else min(max(float(conf), 0.0), 1.0)
    out: list[LiveEvent] = []
    common = {"confidence": conf, "track": a.id}
    if a.label == "person":
        before = set(msg.before.current_zones) if (msg.before is not None and msg.type != "new") else set()
        for zone in a.current_zones:
            if zone in before or (intrusion_zones is not None and zone not in intrusion_zones):
                continue
            out.append(make_event("cn.shoumen.camera.intrusion", id=f"frigate:{a.id}:intrusion:{zone}",
                                  source=source, subject=cam, time=when, data={**common, "zone": zone}))
        dwell = now - a.start_time
        if dwell >= loiter_s:
            out.append(make_event("cn.shoumen.camera.loitering", id=f"frigate:{a.id}:loitering", source=source,
                                  subject=cam, time=when,
                                  data={**common, "dwell_s": float(dwell),
                                        "zone": a.current_zones[0] if a.current_zones else None}))
    if a.label in fall_labels:
        out.append(make_event("cn.shoumen.camera.fall", id=f"frigate:{a.id}:fall", source=source, subject=cam,
                              time=when, data={**common,
                                               "zone": a.current_zones[0] if a.current_zones else None}))
    if a.label in FRIGATE_VEHICLE_LABELS:
        plate = _plate_text(a.recognized_license_plate)
        if plate is not None:
            if hasher is None:
                raise EventError(["field 'after.recognized_license_plate' is set but no plate key is configured "
                                  "(set SHOUMEN_PLATE_KEY); the plate is not stored"], source=topic)
            try:
                digest = hasher.hash(plate)
            except ValueError:
                raise EventError(["field 'after.recognized_license_plate': expected plate text "
                                  "(value not shown)"], source=topic) from None
            out.append(make_event("cn.shoumen.camera.licence_plate", id=f"frigate:{a.id}:plate:{digest[:16]}",
                                  source=source, subject=cam, time=when,
                                  data={**common, "plate_hmac": digest, "key_id": hasher.key_id}))
    return out


def redact_frigate_payload(payload: Mapping[str, Any] | str | bytes, *, hasher: PlateHasher | None) -> str:
    """The payload as JSON with every ``recognized_license_plate`` (and a vehicle's
    ``sub_label``) replaced by its HMAC (or ``"<redacted>"`` without a key) -- what a caller
    should dead-letter instead of the raw message."""
    try:
        data: Any = json.loads(payload) if isinstance(payload, (bytes, bytearray, str)) else payload
    except (json.JSONDecodeError, UnicodeDecodeError):
        return json.dumps({"unparseable_payload_bytes": len(payload)})

    def scrub(obj: Any) -> Any:
        if isinstance(obj, Mapping):
            out = {}
            for k, v in obj.items():
                if k in ("recognized_license_plate", "sub_label") and v is not None and (
                        k == "recognized_license_plate" or obj.get("label") in FRIGATE_VEHICLE_LABELS):
                    text = _plate_text(v)
                    out[k] = ("hmac:" + hasher.hash(text)) if (hasher and text) else "<redacted>"
                else:
                    out[k] = scrub(v)
            return out
        if isinstance(obj, list):
            return [scrub(v) for v in obj]
        return obj

    return json.dumps(scrub(data), separators=(",", ":"), default=str)
