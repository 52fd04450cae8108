"""HTTP inbound path: a FastAPI app that answers 202 only after the events are committed.

Endpoints (run with ``uvicorn``; :func:`create_app` builds the app, :func:`serve` runs it):

``POST /events``         one CloudEvent. Structured mode (CloudEvents HTTP protocol binding
                         1.0.2, section 3.2): body ``application/cloudevents+json`` (plain
                         ``application/json`` without ``ce-`` headers is read the same way).
                         Binary mode (section 3.1): attributes in ``ce-id``, ``ce-source``,
                         ``ce-type``, ``ce-subject``, ``ce-time``, ``ce-specversion`` headers
                         (percent-decoded), ``Content-Type: application/json``, body = ``data``.
``POST /events:batch``   a JSON array of structured CloudEvents (``application/cloudevents-batch+json``,
                         section 3.3, or ``application/json``); at most ``max_batch`` events.
``GET /healthz``         liveness and the store's counters (no key needed).

Answers:

* **202** after the commit, ``{"results": [{"id", "status", "reason"}]}`` with ``status`` one of
  ``accepted``, ``duplicate`` (same id already stored: a retry is harmless), ``late`` (stored,
  flagged: older than the newest event time minus the lateness window), ``rejected`` (unknown
  device or wrong kind: dead-lettered with ``reason`` -- resending will not help). ``/events``
  answers with ``results`` holding one entry.
* **400** malformed JSON / empty body / not an object (batch: not an array); **415** other
  content types; **413** too large (``max_body_bytes``, ``max_batch``); **422** an event breaks the
  vocabulary: ``{"detail": {"problems": [...]}}``, each problem naming the field (``field
  'data.bpm': expected a number <= 300, got 400``; in a batch prefixed ``[i]``). A batch is
  validated as a whole: one bad event refuses the batch and nothing is stored. Refused input
  is not dead-lettered (the client has it and was told why).
* **401** without a valid ``X-API-Key`` (keys from ``SHOUMEN_API_KEYS``; compared in constant
  time with :func:`hmac.compare_digest`, every key checked). :func:`create_app` refuses to build
  an app with no keys: an open ingest endpoint would let anyone raise alarms.
* **429** when one API key sends more than ``rate_per_key_s`` requests per second on average
  (token bucket per key, ``rate_burst`` requests of burst; ``Retry-After`` says when to retry;
  nothing was stored). ``rate_per_key_s=None`` turns the limit off.
* **503** when the store is closed or does not commit within ``commit_timeout_s`` (nothing was
  acknowledged: retry; ids make retries idempotent).

The request handler awaits the store's ``append_many`` in a worker thread, so concurrent requests
share group commits (one fsync for many requests).
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Sequence
from urllib.parse import unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from live_bridge._ingest import require_device_check
from live_bridge.registry import DeviceRegistry
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import AppendResult, EventStore, StoreClosedError
from live_bridge.vocabulary import EventError, LiveEvent, parse_event

__all__ = ["API_KEY_HEADER", "create_app", "serve"]

#: Header carrying the API key.
API_KEY_HEADER = "X-API-Key"
_CE_ATTRS = ("specversion", "id", "source", "type", "subject", "time")


class _HttpError(Exception):
    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.detail, self.headers = status, detail, headers


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _json(body: bytes, *, what: str) -> Any:
    if not body.strip():
        raise _HttpError(400, f"request body is empty; expected {what}")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _HttpError(400, f"request body is not valid JSON ({exc}); expected {what}") from None


def _results(res: Sequence[AppendResult]) -> dict[str, Any]:
    return {"results": [{"id": r.event_id, "status": r.status.value, "reason": r.reason} for r in res]}


def create_app(store: EventStore, registry: DeviceRegistry | None, settings: LiveBridgeSettings, *,
               max_body_bytes: int = 8 * 1024 * 1024, max_batch: int = 5000,
               commit_timeout_s: float = 30.0, rate_per_key_s: float | None = 500.0,
               rate_burst: int = 1000) -> FastAPI:
    """The ingest app over ``store``. ``registry``, when given, must be the store's check
    (ValueError otherwise); API keys come from ``settings.api_keys`` (ValueError when none).
    ``max_body_bytes`` bounds a request body (413), ``rate_per_key_s`` / ``rate_burst`` the
    requests per second of one key (429; None: no limit)."""
    require_device_check(store, registry, where="create_app")
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes: expected an integer >= 1, got {max_body_bytes!r}")
    if rate_per_key_s is not None and not rate_per_key_s > 0:
        raise ValueError(f"rate_per_key_s: expected a number of requests/s > 0 or None, got {rate_per_key_s!r}")
    if rate_burst < 1:
        raise ValueError(f"rate_burst: expected an integer >= 1, got {rate_burst!r}")
    keys = tuple(k.encode("utf-8") for k in settings.api_keys)
    if not keys:
        raise ValueError("create_app: no API keys; set SHOUMEN_API_KEYS (comma-separated keys of 16+ characters)")
    app = FastAPI(title="Shoumen live-bridge ingest", version="1.0")

    def authorised(request: Request) -> int | None:
        """Index of the matching key, or None."""
        given = request.headers.get(API_KEY_HEADER)
        if given is None:
            return None
        g = given.encode("utf-8", errors="replace")
        found: int | None = None
        for i, k in enumerate(keys):  # no early exit: the time does not depend on which key matched
            if hmac.compare_digest(g, k):
                found = i
        return found

    # token bucket per key index: [tokens, last refill (monotonic s)]
    buckets = [[float(rate_burst), time.monotonic()] for _ in keys]
    bucket_lock = threading.Lock()

    def throttled(i: int) -> float | None:
        """None when key ``i`` may send a request now (a token is taken), else seconds to wait."""
        if rate_per_key_s is None:
            return None
        with bucket_lock:
            b = buckets[i]
            now = time.monotonic()
            b[0] = min(float(rate_burst), b[0] + (now - b[1]) * rate_per_key_s)
            b[1] = now
            if b[0] >= 1.0:
                b[0] -= 1.0
                return None
            return (1.0 - b[0]) / rate_per_key_s

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            raise _HttpError(413, f"request body of {declared} bytes is larger than the limit of {max_body_bytes}")
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > max_body_bytes:
                raise _HttpError(413, f"request body is larger than the limit of {max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def commit(events: list[LiveEvent]) -> JSONResponse:
        try:
            res = await run_in_threadpool(store.append_many, events, timeout=commit_timeout_s)
        except StoreClosedError:
            raise _HttpError(503, "the event store is closed; nothing was stored", {"Retry-After": "5"}) from None
        except FutureTimeout:
            raise _HttpError(503, f"the event store did not commit within {commit_timeout_s} s; retry (ids make "
                                  f"retries idempotent)", {"Retry-After": "1"}) from None
        return JSONResponse(_results(res), status_code=202)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> JSONResponse:
            i = authorised(request)
            if i is None:
                return JSONResponse({"detail": f"missing or wrong API key (header {API_KEY_HEADER})"},
                                    status_code=401, headers={"WWW-Authenticate": "ApiKey"})
            wait = throttled(i)
            if wait is not None:
                return JSONResponse({"detail": f"rate limit of {rate_per_key_s:g} requests/s for this API key "
                                               f"exceeded; nothing was stored, retry later"},
                                    status_code=429, headers={"Retry-After": str(max(1, int(wait + 0.999)))})
            try:
                return await handler(request)
            except _HttpError as e:
                return JSONResponse({"detail": e.detail}, status_code=e.status, headers=e.headers)
            except EventError as e:
                return JSONResponse({"detail": {"message": str(e), "problems": e.problems}}, status_code=422)
        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    async def post_event(request: Request) -> JSONResponse:
        """One CloudEvent (structured or binary mode); 202 after the commit."""
        mt = _media_type(request)
        body = await body_of(request)
        if mt == "application/cloudevents+json" or (mt == "application/json" and "ce-specversion" not in request.headers):
            obj = _json(body, what="one CloudEvent as a JSON object")
            if not isinstance(obj, dict):
                raise _HttpError(400, f"request body: expected one CloudEvent as a JSON object, got "
                                      f"{type(obj).__name__} (send arrays to POST /events:batch)")
            return await commit([parse_event(obj, source="POST /events")])
        if mt == "application/json":  # binary mode
            attrs: dict[str, Any] = {}
            problems: list[str] = []
            for name, value in request.headers.items():
                if name.lower().startswith("ce-"):
                    attr = name.lower()[3:]
                    if attr in _CE_ATTRS:
                        attrs[attr] = unquote(value)
                    else:
                        problems.append(f"header 'ce-{attr}' is not allowed (no extension attributes are defined)")
            if problems:
                raise EventError(problems, event_id=attrs.get("id"), source="POST /events (binary mode)")
            attrs["datacontenttype"] = "application/json"
            attrs["data"] = _json(body, what="the event's data as a JSON object") if body.strip() else {}
            return await commit([parse_event(attrs, source="POST /events (binary mode)")])
        raise _HttpError(415, f"Content-Type {mt or '(none)'!r}: expected application/cloudevents+json "
                              f"(structured mode) or application/json (binary mode with ce-* headers)")

    async def post_batch(request: Request) -> JSONResponse:
        """A JSON array of CloudEvents; all validated first, then committed together; 202 after."""
        mt = _media_type(request)
        if mt not in ("application/cloudevents-batch+json", "application/json"):
            raise _HttpError(415, f"Content-Type {mt or '(none)'!r}: expected application/cloudevents-batch+json "
                                  f"or application/json")
        obj = _json(await body_of(request), what="a JSON array of CloudEvents")
        if not isinstance(obj, list):
            raise _HttpError(400, f"request body: expected a JSON array of CloudEvents, got {type(obj).__name__}")
        if not obj:
            raise _HttpError(400, "request body: empty batch; expected one or more CloudEvents")
        if len(obj) > max_batch:
            raise _HttpError(413, f"batch of {len(obj)} events is larger than the limit of {max_batch}")
        events: list[LiveEvent] = []
        problems: list[str] = []
        for i, item in enumerate(obj):
            try:
                events.append(parse_event(item))
            except EventError as e:
                problems += [f"[{i}] {p}" for p in e.problems]
        if problems:
            raise EventError(problems, source="POST /events:batch")
        return await commit(events)

    # request bodies are read by hand (structured/binary modes); these document them in OpenAPI
    ce_schema = {"type": "object", "required": ["specversion", "id", "source", "type", "subject", "time"],
                 "properties": {"specversion": {"type": "string", "enum": ["1.0"]}, "id": {"type": "string"},
                                "source": {"type": "string"}, "type": {"type": "string"},
                                "subject": {"type": "string"}, "time": {"type": "string", "format": "date-time"},
                                "datacontenttype": {"type": "string"}, "data": {"type": "object"}}}
    one = {"requestBody": {"required": True, "content": {"application/cloudevents+json": {"schema": ce_schema},
                                                         "application/json": {"schema": ce_schema}}}}
    many = {"type": "array", "items": ce_schema, "minItems": 1}
    batch = {"requestBody": {"required": True, "content": {"application/cloudevents-batch+json": {"schema": many},
                                                           "application/json": {"schema": many}}}}
    app.add_api_route("/events", guarded(post_event), methods=["POST"], status_code=202, openapi_extra=one)
    app.add_api_route("/events:batch", guarded(post_batch), methods=["POST"], status_code=202, openapi_extra=batch)

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "counters": store.counters()}

    return app


def serve(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "warning") -> None:
    """Run ``app`` with uvicorn until interrupted (the lead's CLI calls this)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level)
