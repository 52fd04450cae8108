"""The live event vocabulary: CloudEvents 1.0 envelopes with typed, strict data.

Every event that enters the twin from the real estate -- a smoke detector in a flat, a Frigate
camera, a patrol's phone, a grid worker's hazard report, a face gate -- is one
:class:`LiveEvent`: a CloudEvents 1.0 envelope (CloudEvents specification v1.0.2, CNCF,
https://github.com/cloudevents/spec, "Required/Optional Attributes" and the JSON event format)::

    specversion      "1.0"
    id               unique per producer; our stores deduplicate on it (idempotent delivery)
    source           URI-reference of the producer context, e.g. "/mqtt/shoumen" or "/frigate"
    type             "cn.shoumen.<family>.<what>", see below
    subject          the reporting device's registry id (smk-B01-L00-U01, cam-gate-north-1,
                     G-N for a gate, a patrol tracker id, a grid worker id)
    time             RFC 3339 timestamp of the observation, normalised to UTC ("...Z")
    datacontenttype  "application/json"
    data             the type's own fields (one pydantic model per type; strict; no extra keys)

Type naming scheme. ``cn.shoumen`` is the reverse-DNS prefix; the second part is the device
family (``smoke``, ``door``, ``water``, ``manhole``, ``button``, ``wristband``, ``camera``,
``patrol``, ``grid``, ``gate``); the third is what happened, in lower snake case
(``alarm``, ``heart_rate``, ``licence_plate``). :data:`EVENT_DATA` maps each type to its data
model; docs/events.md shows one JSON example per type.

Units are SI except where the name says otherwise (``level_m``, ``dwell_s``, ``hours``,
``bpm``, ``temperature_c``). Positions are local metres (``x_m``, ``y_m``) or WGS 84 degrees
(``lon``, ``lat``).

Privacy (domain.md, practice 10; PIPL "minimum necessary"). A licence plate is never stored in
plain text: :class:`LicencePlateData` carries only ``plate_hmac``, the hex HMAC-SHA256 of the
normalised plate under a site key (:class:`PlateHasher`, key from
:class:`live_bridge.settings.LiveBridgeSettings`), and ``key_id`` naming the key so a rotated key
can be told apart. The same plate and key always give the same hash, so "zombie cars" (a plate
seen entering and never leaving) can still be found; the plate itself cannot be read back.

:func:`parse_event` validates a dict, JSON string or bytes and raises :class:`EventError`, whose
``problems`` name each field (``data.bpm``) and the value expected. The Frigate NVR mapping
lives in :mod:`live_bridge.frigate`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar, Literal, Mapping, Union

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

__all__ = [
    "CREDENTIAL_KINDS",
    "EVENT_DATA",
    "EVENT_TYPES",
    "TYPE_PREFIX",
    "EventError",
    "LiveEvent",
    "PlateHasher",
    "make_event",
    "parse_event",
    "normalise_plate",
]

#: Reverse-DNS prefix of every event type.
TYPE_PREFIX = "cn.shoumen."
#: Credential kinds at an access gate (domain.md, practice 2), matching ``geometry.site.ACCESS_TYPES``.
CREDENTIAL_KINDS = ("face", "card", "qr", "plate", "guard", "none")

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
_Id = Annotated[str, Field(min_length=1, max_length=200)]
_Conf = Annotated[float, Field(ge=0.0, le=1.0)]


class _Data(BaseModel):
    model_config = _STRICT


# --- fire detection ----------------------------------------------------------------------------
class SmokeAlarmData(_Data):
    """A smoke or heat detector went into alarm. ``sensing`` says which principle fired;
    ``obscuration_pct_per_m`` (smoke, %/m) and ``temperature_c`` (heat, °C) are the readings
    when the device reports them."""

    sensing: Literal["smoke", "heat"] = "smoke"
    obscuration_pct_per_m: Annotated[float, Field(ge=0.0, le=100.0)] | None = None
    temperature_c: Annotated[float, Field(ge=-50.0, le=1200.0)] | None = None


class SmokeClearData(_Data):
    """The detector returned to normal; ``reason`` e.g. ``"reset"``, ``"silenced"``."""

    reason: Annotated[str, Field(max_length=200)] = ""


# --- doors, water, manholes, buttons ---------------------------------------------------------
class DoorData(_Data):
    """A door sensor changed state (open, close, forced). ``door`` optionally names the door
    (an exit id such as ``B01-E1``) when the sensor id does not."""

    door: _Id | None = None


class WaterLevelData(_Data):
    """Water depth at a level sensor in m above its zero; ``threshold_m`` the alarm setting."""

    level_m: Annotated[float, Field(ge=-1.0, le=20.0)]
    threshold_m: Annotated[float, Field(ge=0.0, le=20.0)] | None = None


class ManholeData(_Data):
    """A manhole-cover sensor: ``displaced`` true when the cover left its seat (false when it
    returned); ``tilt_deg`` the measured tilt when known."""

    displaced: bool
    tilt_deg: Annotated[float, Field(ge=0.0, le=180.0)] | None = None


class ButtonData(_Data):
    """An emergency button was pressed (elderly living alone; domain.md, practice 8)."""

    long_press: bool = False


# --- wristbands --------------------------------------------------------------------------------
class WristbandSosData(_Data):
    """The wearer pressed SOS."""


class WristbandFallData(_Data):
    """The wristband detected a fall; ``confidence`` 0..1 when reported."""

    confidence: _Conf | None = None


class HeartRateData(_Data):
    """Heart rate out of the wearer's band: ``bpm`` beats per minute, ``direction`` high or low."""

    bpm: Annotated[int, Field(ge=0, le=300)]
    direction: Literal["high", "low"]


class NoActivityData(_Data):
    """No movement for ``hours`` (domain.md: 12 h -> notify family, doctor, grid worker)."""

    hours: Annotated[float, Field(gt=0.0, le=24.0 * 30)]


# --- camera analytics --------------------------------------------------------------------------
class _CameraData(_Data):
    """Common to camera analytics: ``confidence`` 0..1, ``track`` the analytics' track id
    (Frigate's event id), ``zone`` the camera zone it happened in."""

    confidence: _Conf | None = None
    track: _Id | None = None
    zone: _Id | None = None


class LoiteringData(_CameraData):
    """A person has stayed in view (or in ``zone``) for ``dwell_s`` seconds."""

    dwell_s: Annotated[float, Field(ge=0.0)]


class IntrusionData(_CameraData):
    """A person entered a restricted ``zone`` (required here)."""

    zone: _Id


class CrowdingData(_CameraData):
    """``count`` people gathered in view (or in ``zone``)."""

    count: Annotated[int, Field(ge=1, le=100_000)]


class CameraFallData(_CameraData):
    """A person fell in view."""


class ThrownObjectData(_CameraData):
    """An object thrown or falling from height, located at ``storey`` (level index, 0 =
    ground) of ``building`` when the camera knows it (domain.md: 0.5 m precision systems)."""

    storey: Annotated[int, Field(ge=-10, le=200)]
    building: _Id | None = None


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class LicencePlateData(_CameraData):
    """A licence plate was read. Only ``plate_hmac`` (64 lower-case hex chars, HMAC-SHA256 of
    the normalised plate) and the ``key_id`` of the key are kept, never the plate."""

    plate_hmac: Annotated[str, Field(min_length=64, max_length=64)]
    key_id: _Id
    direction: Literal["in", "out"] | None = None

    @field_validator("plate_hmac")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not _HEX64.match(v):
            raise ValueError("expected 64 lower-case hex characters (HMAC-SHA256 of the plate)")
        return v


# --- patrols, grid workers, gates ---------------------------------------------------------------
class PatrolPositionData(_Data):
    """A patrol's position: local metres (``x_m``, ``y_m``) or WGS 84 degrees (``lon``,
    ``lat``) -- exactly one pair; ``accuracy_m`` the fix's accuracy when known."""

    x_m: float | None = None
    y_m: float | None = None
    lon: Annotated[float, Field(ge=-180.0, le=180.0)] | None = None
    lat: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    accuracy_m: Annotated[float, Field(ge=0.0)] | None = None
    level: Annotated[int, Field(ge=-10, le=200)] | None = None

    @model_validator(mode="after")
    def _one_pair(self) -> "PatrolPositionData":
        xy = (self.x_m is not None, self.y_m is not None)
        ll = (self.lon is not None, self.lat is not None)
        if xy[0] != xy[1]:
            raise ValueError("x_m and y_m must be given together")
        if ll[0] != ll[1]:
            raise ValueError("lon and lat must be given together")
        if xy[0] == ll[0]:
            raise ValueError("expected exactly one position: x_m/y_m (local metres) or lon/lat (degrees)")
        return self


class PatrolCheckpointData(_Data):
    """A patrol checked in at ``checkpoint`` (an NFC tag or QR code id)."""

    checkpoint: _Id


class HazardReportData(_Data):
    """A grid worker's hazard report (domain.md, practice 3): a photo reference (``photo_uri``,
    an absolute URI: https, s3, file ...), a description and optionally where and how bad."""

    photo_uri: Annotated[str, Field(min_length=3, max_length=2000)]
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    category: Annotated[str, Field(max_length=100)] | None = None
    location: _Id | None = None
    severity: Literal["red", "orange", "yellow", "blue"] | None = None

    @field_validator("photo_uri")
    @classmethod
    def _uri(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", v):
            raise ValueError("expected an absolute URI such as https://host/path.jpg or s3://bucket/key")
        return v


class GatePassageData(_Data):
    """Someone passed the access gate named by the event's ``subject``: ``direction`` in/out
    and the ``credential`` kind used (the identity itself is not carried)."""

    direction: Literal["in", "out"]
    credential: Literal["face", "card", "qr", "plate", "guard", "none"]


#: Data model of every event type.
EVENT_DATA: dict[str, type[BaseModel]] = {
    "cn.shoumen.smoke.alarm": SmokeAlarmData,
    "cn.shoumen.smoke.clear": SmokeClearData,
    "cn.shoumen.door.open": DoorData,
    "cn.shoumen.door.close": DoorData,
    "cn.shoumen.door.forced": DoorData,
    "cn.shoumen.water.level": WaterLevelData,
    "cn.shoumen.manhole.displacement": ManholeData,
    "cn.shoumen.button.pressed": ButtonData,
    "cn.shoumen.wristband.sos": WristbandSosData,
    "cn.shoumen.wristband.fall": WristbandFallData,
    "cn.shoumen.wristband.heart_rate": HeartRateData,
    "cn.shoumen.wristband.no_activity": NoActivityData,
    "cn.shoumen.camera.loitering": LoiteringData,
    "cn.shoumen.camera.intrusion": IntrusionData,
    "cn.shoumen.camera.crowding": CrowdingData,
    "cn.shoumen.camera.fall": CameraFallData,
    "cn.shoumen.camera.thrown_object": ThrownObjectData,
    "cn.shoumen.camera.licence_plate": LicencePlateData,
    "cn.shoumen.patrol.position": PatrolPositionData,
    "cn.shoumen.patrol.checkpoint": PatrolCheckpointData,
    "cn.shoumen.grid.hazard_report": HazardReportData,
    "cn.shoumen.gate.passage": GatePassageData,
}
#: All event type names, sorted.
EVENT_TYPES: tuple[str, ...] = tuple(sorted(EVENT_DATA))


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


class LiveEvent(BaseModel):
    """Base of every live event envelope; use :func:`parse_event` or :func:`make_event` to get
    the concrete class for a type. Immutable. ``time`` is always a UTC-aware datetime."""

    model_config = _STRICT
    event_type: ClassVar[str] = ""

    specversion: Literal["1.0"] = "1.0"
    id: _Id
    source: Annotated[str, Field(min_length=1, max_length=500)]
    type: str
    subject: _Id
    time: Annotated[AwareDatetime, Field(strict=False)]
    datacontenttype: Literal["application/json"] = "application/json"
    data: BaseModel

    @field_validator("time", mode="before")
    @classmethod
    def _rfc3339(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|z|[+-]\d\d:\d\d)$", v):
                raise ValueError("expected an RFC 3339 timestamp with a zone, e.g. 2025-03-01T08:15:00Z")
            return v
        if isinstance(v, datetime):
            return v
        raise ValueError("expected an RFC 3339 timestamp string, e.g. 2025-03-01T08:15:00Z")

    @field_validator("time", mode="after")
    @classmethod
    def _to_utc(cls, v: datetime) -> datetime:
        return _utc(v)

    @field_serializer("time")
    def _ser_time(self, v: datetime) -> str:
        s = v.astimezone(timezone.utc).isoformat(timespec="microseconds")
        return s.replace("+00:00", "Z")

    @property
    def device(self) -> str:
        """The reporting device's registry id (the envelope's ``subject``)."""
        return self.subject

    @property
    def time_us(self) -> int:
        """Event time as integer microseconds since the Unix epoch (UTC)."""
        d = self.time - _EPOCH
        return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds

    def to_dict(self) -> dict[str, Any]:
        """The CloudEvents JSON form as a dict (``time`` an RFC 3339 string ending in Z)."""
        return self.model_dump(mode="json", exclude_none=False)

    def to_json(self) -> str:
        """The CloudEvents JSON form (structured content mode), compact."""
        return self.model_dump_json()


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _envelope_class(type_name: str, data_model: type[BaseModel]) -> type[LiveEvent]:
    cls_name = "".join(p.capitalize() for p in re.split(r"[._]", type_name[len(TYPE_PREFIX):])) + "Event"
    cls = type(
        cls_name,
        (LiveEvent,),
        {
            "__annotations__": {"type": Literal[type_name], "data": data_model},  # type: ignore[valid-type]
            "__module__": __name__,
            "__doc__": f"Envelope of ``{type_name}``; ``data`` is a :class:`{data_model.__name__}`.",
            "event_type": type_name,
        },
    )
    return cls


#: Envelope class of every event type.
ENVELOPES: dict[str, type[LiveEvent]] = {t: _envelope_class(t, m) for t, m in EVENT_DATA.items()}
_ANY_EVENT = TypeAdapter(
    Annotated[Union[tuple(ENVELOPES.values())], Field(discriminator="type")]  # type: ignore[arg-type]
)


# --- errors ----------------------------------------------------------------------------------
class EventError(ValueError):
    """A live event that breaks the vocabulary. ``problems`` lists each problem as
    ``"field 'data.bpm': expected ..., got ..."``; ``event_id`` is the envelope's id when it
    could be read. Values of unexpected fields are never echoed (they may hold personal data)."""

    def __init__(self, problems: list[str], *, event_id: str | None = None, source: str | None = None) -> None:
        self.problems = list(problems)
        self.event_id = event_id
        self.source = source
        head = ""
        if source:
            head += f"{source}: "
        head += f"event {event_id!r}: " if event_id else "event: "
        if len(self.problems) == 1:
            msg = head + self.problems[0]
        else:
            msg = head + f"{len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems)
        super().__init__(msg)


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def _expected(err: Mapping[str, Any]) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    simple = {
        "string_type": "a string",
        "int_type": "an integer",
        "float_type": "a number",
        "bool_type": "true or false",
        "dict_type": "a JSON object",
        "model_type": "a JSON object",
        "model_attributes_type": "a JSON object",
        "list_type": "a list",
        "timezone_aware": "a timestamp with a time zone (e.g. ...Z)",
        "datetime_parsing": "an RFC 3339 timestamp, e.g. 2025-03-01T08:15:00Z",
        "datetime_from_date_parsing": "an RFC 3339 timestamp, e.g. 2025-03-01T08:15:00Z",
        "int_from_float": "an integer",
        "finite_number": "a finite number",
    }
    if t in simple:
        return simple[t]
    if t == "literal_error":
        return f"one of {ctx.get('expected')}"
    if t in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[t]
        key = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le", "less_than": "lt"}[t]
        return f"a number {op} {ctx.get(key)}"
    if t == "string_too_short":
        return f"a string of at least {ctx.get('min_length')} character(s)"
    if t == "string_too_long":
        return f"a string of at most {ctx.get('max_length')} characters"
    if t == "value_error":
        msg = str(err.get("msg", ""))
        return msg.removeprefix("Value error, ")
    return str(err.get("msg", t)).lower()


def _problems(exc: ValidationError, *, strip_tag: bool) -> list[str]:
    out: list[str] = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if strip_tag and loc and isinstance(loc[0], str) and loc[0].startswith(TYPE_PREFIX):
            loc = loc[1:]
        path = ".".join(str(p) for p in loc)
        t = err["type"]
        if t == "union_tag_invalid":
            tag = (err.get("ctx") or {}).get("tag")
            out.append(f"field 'type': unknown event type {tag!r}; expected one of {', '.join(EVENT_TYPES)}")
        elif t == "union_tag_not_found":
            out.append(f"field 'type' is missing; expected one of {', '.join(EVENT_TYPES)}")
        elif t == "missing":
            out.append(f"field '{path}' is missing")
        elif t == "extra_forbidden":
            out.append(f"field '{path}' is not allowed (unexpected field; its value is not shown)")
        else:
            exp = _expected(err)
            what = exp if t == "value_error" else f"expected {exp}"
            head = f"field '{path}': " if path else ""
            out.append(f"{head}{what}, got {_short(err.get('input'))}")
    return out


def parse_event(obj: Mapping[str, Any] | str | bytes, *, source: str | None = None) -> LiveEvent:
    """Validate one CloudEvents JSON event (a dict, or a JSON string/bytes) and return its typed
    envelope. Raises :class:`EventError` naming every bad field (``source`` -- e.g. the MQTT
    topic or file name -- prefixes the message)."""
    if isinstance(obj, (bytes, bytearray, str)):
        try:
            obj = json.loads(obj)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EventError([f"not valid JSON ({exc})"], source=source) from exc
    if not isinstance(obj, Mapping):
        raise EventError([f"expected a JSON object, got {type(obj).__name__}"], source=source)
    event_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    if "specversion" not in obj:
        raise EventError(["field 'specversion' is missing; expected \"1.0\" (CloudEvents 1.0)"],
                         event_id=event_id, source=source)
    try:
        return _ANY_EVENT.validate_python(dict(obj))
    except ValidationError as exc:
        raise EventError(_problems(exc, strip_tag=True), event_id=event_id, source=source) from None


def make_event(type: str, *, id: str, source: str, subject: str, time: datetime | str,
               data: Mapping[str, Any] | BaseModel | None = None) -> LiveEvent:
    """Build and validate an event of ``type`` from Python values (``time`` a tz-aware datetime
    or an RFC 3339 string). Raises :class:`EventError` like :func:`parse_event`."""
    if type not in ENVELOPES:
        raise EventError([f"field 'type': unknown event type {type!r}; expected one of {', '.join(EVENT_TYPES)}"],
                         event_id=id)
    if isinstance(data, BaseModel):
        data = data.model_dump()
    try:
        return ENVELOPES[type].model_validate(
            {"specversion": "1.0", "id": id, "source": source, "type": type, "subject": subject,
             "time": time, "datacontenttype": "application/json", "data": dict(data or {})}
        )
    except ValidationError as exc:
        raise EventError(_problems(exc, strip_tag=False), event_id=id) from None


# --- licence plates ------------------------------------------------------------------------------
def normalise_plate(plate: str) -> str:
    """Canonical plate text: NFKC, upper case, separators (space, ``-``, ``.``, ``·``, ``•``)
    removed, so ``"京A·12345"`` and ``"京a 12345"`` hash alike."""
    if not isinstance(plate, str):
        raise TypeError(f"licence plate: expected a string, got {type(plate).__name__}")
    s = unicodedata.normalize("NFKC", plate).upper()
    s = re.sub(r"[\s\-.·•_]", "", s)
    if not s:
        raise ValueError("licence plate: empty after normalisation")
    return s


class PlateHasher:
    """Keyed one-way hash of licence plates: HMAC-SHA256 (RFC 2104, FIPS 198-1) of the
    normalised plate under ``key`` (at least 16 bytes). ``key_id`` names the key in events so
    a rotation is visible. Thread-safe (immutable)."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: bytes, *, key_id: str = "k1") -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise ValueError("plate hash key: expected at least 16 bytes (set SHOUMEN_PLATE_KEY)")
        if not key_id:
            raise ValueError("plate hash key: 'key_id' must be a non-empty string")
        self._key = bytes(key)
        self.key_id = key_id

    def __repr__(self) -> str:  # never show the key
        return f"PlateHasher(key_id={self.key_id!r})"

    def hash(self, plate: str) -> str:
        """64 hex characters; the plain plate is not kept anywhere."""
        return hmac.new(self._key, normalise_plate(plate).encode("utf-8"), hashlib.sha256).hexdigest()
