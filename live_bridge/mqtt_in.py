"""MQTT inbound path: a QoS 1 subscriber that acknowledges only what the event store committed.

Topics (subscribed at QoS 1):

* ``shoumen/events/#`` -- our CloudEvents 1.0 in structured JSON mode (one event, or a JSON
  array of events that is stored or refused as a whole). The topic below the prefix is free
  (``shoumen/events/<subject>`` by convention); routing uses the envelope, not the topic.
* ``frigate/events`` and ``frigate/reviews`` -- Frigate NVR's native messages, mapped with
  :func:`live_bridge.frigate.from_frigate` (plates hashed with the site key).

Acknowledgement (DESIGN.md principle 6; MQTT 3.1.1 section 4.3.2, QoS 1 "at least once").
The client uses paho-mqtt 2.x with ``manual_ack=True``: paho does not send the PUBACK when a
message arrives; :class:`MqttSubscriber` sends it (``client.ack(mid, 1)``) only after the event
-- or, for a refused message, its dead letter -- is committed to the store. The session is
persistent (fixed client id, ``clean_session=False``; for MQTT 5 ``clean_start=False`` with a
session expiry), so a message received but not acknowledged when the process dies is resent by
the broker when the same client id reconnects, with the DUP flag. The store is idempotent by
event id, so such a redelivery is stored once (reported and counted as a duplicate).

Throughput. The network thread only queues messages; one worker thread takes everything queued
(up to ``max_batch``), decodes it, writes all events with ONE ``append_many`` (one transaction,
one fsync, shared with concurrent HTTP callers by the store's group commit), then acknowledges
the messages in the order they arrived (MQTT 3.1.1 section 4.6 asks for PUBACKs in order).
Measured with Mosquitto 2.0.11 (benchmarks/README.md): ~3,600-4,900 acknowledged events/s with
70-120 events per commit, at the broker's default ``max_inflight_messages 20`` as at 1000. Set
the broker's ``max_queued_messages`` (default 1000) high enough that a persistent session that is
offline for a while does not lose messages -- Mosquitto drops QoS 1 messages beyond it.

Refused messages. Invalid JSON or a CloudEvent that breaks the vocabulary: dead-lettered with
the reason (``store.dead_letter``; Frigate payloads in redacted form), then acknowledged --
resending them would never help. Events from unknown devices or of the wrong kind: the store's
``check`` (``DeviceRegistry.reject_reason``) dead-letters and counts them in the same transaction.
A dead letter that is committed but whose PUBACK is lost in a crash is written again on
redelivery (dead letters are at least once; events exactly once by id).

Store failures. If the store raises (busy, disk full), nothing is acknowledged and the append is
retried with back-off (0.05 s doubling to 2 s); a closed store stops the worker, leaving the
messages unacknowledged for the next session. QoS 2 publications are delivered at QoS 1 (paho
answers QoS 2 with PUBREC before the application sees the message, which would acknowledge
before the commit).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge._ingest import Decoded, decode_cloudevents, decode_frigate, require_device_check
from live_bridge.registry import DeviceRegistry
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import AppendStatus, EventStore, StoreClosedError
from live_bridge.vocabulary import LiveEvent, PlateHasher

__all__ = ["EVENT_TOPIC", "MqttIngestError", "MqttSubscriber"]

log = logging.getLogger(__name__)

#: Topic filter of our CloudEvents.
EVENT_TOPIC = "shoumen/events/#"


class MqttIngestError(RuntimeError):
    """The subscriber could not connect or subscribe (message names broker and reason)."""


@dataclass
class _Msg:
    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool


_STOP = object()


class MqttSubscriber:
    """Subscribe to our CloudEvents and Frigate's topics on an MQTT broker and persist what
    arrives in ``store`` before acknowledging it (module docstring).

    ``client_id`` names the broker-side persistent session: keep it fixed across restarts, and
    unique per running bridge. ``frigate_prefix`` None disables the Frigate topics;
    ``frigate_options`` are passed to :func:`from_frigate` (``camera_map``, ``loiter_s`` ...);
    ``hasher`` hashes Frigate's plates (without it a plate message is dead-lettered, redacted).
    ``registry``, when given, must be the store's check (ValueError otherwise)."""

    def __init__(
        self,
        store: EventStore,
        *,
        registry: DeviceRegistry | None = None,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "shoumen-live-bridge",
        event_topic: str = EVENT_TOPIC,
        frigate_prefix: str | None = "frigate",
        hasher: PlateHasher | None = None,
        frigate_options: Mapping[str, Any] | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 30,
        protocol: str = "3.1.1",
        session_expiry_s: int = 7 * 86_400,
        max_batch: int = 1000,
    ) -> None:
        require_device_check(store, registry, where="MqttSubscriber")
        if not client_id:
            raise ValueError("client_id: expected a fixed, non-empty id (it names the persistent session)")
        if protocol not in ("3.1.1", "5"):
            raise ValueError(f"protocol: expected '3.1.1' or '5', got {protocol!r}")
        if max_batch < 1:
            raise ValueError(f"max_batch: expected an integer >= 1, got {max_batch!r}")
        self.store = store
        self.host, self.port, self.client_id = host, int(port), client_id
        self.event_topic = event_topic
        self._event_prefix = event_topic[:-2] if event_topic.endswith("/#") else event_topic
        self.frigate_prefix = frigate_prefix.rstrip("/") if frigate_prefix else None
        self.hasher = hasher
        self.frigate_options = dict(frigate_options or {})
        self.keepalive_s = keepalive_s
        self.max_batch = max_batch
        self._v5 = protocol == "5"
        self._session_expiry_s = session_expiry_s
        if self._v5:
            self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                                       manual_ack=True)
        else:
            self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                       protocol=mqtt.MQTTv311, manual_ack=True)
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._subscribed = threading.Event()
        self._connect_error: str | None = None
        self._pending_sub: set[int] = set()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        #: in-memory statistics of this subscriber (the store keeps the persisted counters)
        self.stats: dict[str, int] = dict.fromkeys(
            ("messages", "redelivered", "acked", "events", "accepted", "duplicate", "late", "rejected",
             "dead_lettered", "batches", "store_retries", "connects"), 0)
        self.session_present: bool | None = None

    @classmethod
    def from_settings(cls, store: EventStore, settings: LiveBridgeSettings, *,
                      registry: DeviceRegistry | None = None, **options: Any) -> "MqttSubscriber":
        """A subscriber with host, port, client id, MQTT account and plate key taken from
        ``settings``."""
        hasher = settings.plate_hasher() if settings.plate_key is not None else None
        if settings.mqtt_username is not None:
            options.setdefault("username", settings.mqtt_username)
            options.setdefault("password", settings.mqtt_password)
        return cls(store, registry=registry, host=settings.mqtt_host, port=settings.mqtt_port,
                   client_id=settings.mqtt_client_id, hasher=hasher, **options)

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, timeout: float = 10.0) -> "MqttSubscriber":
        """Connect, subscribe and start the worker; returns once the subscriptions are
        acknowledged. MqttIngestError if the broker cannot be reached in ``timeout`` s."""
        if self._worker is not None:
            raise RuntimeError("MqttSubscriber.start: already started")
        self._worker = threading.Thread(target=self._work, name=f"mqtt-ingest:{self.client_id}", daemon=True)
        self._worker.start()
        try:
            if self._v5:
                from paho.mqtt.packettypes import PacketTypes
                from paho.mqtt.properties import Properties
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = self._session_expiry_s
                self._client.connect(self.host, self.port, keepalive=self.keepalive_s, clean_start=False,
                                     properties=props)
            else:
                self._client.connect(self.host, self.port, keepalive=self.keepalive_s)
        except OSError as exc:
            self._stop_worker()
            raise MqttIngestError(f"MQTT broker {self.host}:{self.port}: cannot connect ({exc})") from exc
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            err = self._connect_error or "no CONNACK/SUBACK"
            self.stop(drain=False)
            raise MqttIngestError(f"MQTT broker {self.host}:{self.port}: not subscribed after {timeout} s ({err})")
        return self

    def stop(self, *, drain: bool = True, timeout: float = 10.0) -> None:
        """Stop. With ``drain`` the messages already received are committed and acknowledged
        first; without, they stay unacknowledged and the broker resends them next session."""
        if drain:
            self.wait_idle(timeout=timeout)
        self._stop_worker(timeout=timeout)
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()

    def abort(self) -> None:
        """Drop the connection without a DISCONNECT and without acknowledging anything queued --
        what a crash looks like to the broker (used by tests and failover drills)."""
        self._inbox.put(_STOP)
        sock = self._client.socket()
        self._client.loop_stop()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> "MqttSubscriber":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, *, timeout: float = 10.0) -> bool:
        """Wait until every message received so far is committed and acknowledged."""
        end = time.monotonic() + timeout
        with self._cond:
            while self.stats["acked"] < self.stats["messages"]:
                left = end - time.monotonic()
                if left <= 0 or self._worker is None or not self._worker.is_alive():
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def wait_for(self, n_acked: int, *, timeout: float = 10.0) -> bool:
        """Wait until at least ``n_acked`` messages have been acknowledged in this session."""
        end = time.monotonic() + timeout
        with self._cond:
            while self.stats["acked"] < n_acked:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    # ------------------------------------------------------------------ paho callbacks (network thread)
    def _subscriptions(self) -> list[tuple[str, int]]:
        subs = [(self.event_topic, 1)]
        if self.frigate_prefix:
            subs += [(f"{self.frigate_prefix}/events", 1), (f"{self.frigate_prefix}/reviews", 1)]
        return subs

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._connect_error = f"CONNACK {reason}"
            log.error("MQTT %s:%s refused the connection: %s", self.host, self.port, reason)
            return
        self.stats["connects"] += 1
        self.session_present = bool(getattr(flags, "session_present", False))
        rc, mid = client.subscribe(self._subscriptions())
        if rc == mqtt.MQTT_ERR_SUCCESS and mid is not None:
            self._pending_sub.add(mid)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        bad = [str(r) for r in reason_codes if r.is_failure]
        if bad:
            self._connect_error = f"SUBACK refused: {', '.join(bad)}"
            log.error("MQTT %s:%s refused a subscription: %s", self.host, self.port, bad)
            return
        self._pending_sub.discard(mid)
        if not self._pending_sub:
            self._subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT %s:%s connection lost (%s); paho reconnects", self.host, self.port, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.stats["messages"] += 1
            if msg.dup:
                self.stats["redelivered"] += 1
        self._inbox.put(_Msg(msg.topic, bytes(msg.payload), msg.mid, msg.qos, bool(msg.dup)))

    # ------------------------------------------------------------------ the worker
    def _stop_worker(self, timeout: float = 10.0) -> None:
        if self._worker is not None and self._worker.is_alive():
            self._inbox.put(_STOP)
            self._worker.join(timeout)

    def _work(self) -> None:
        while True:
            first = self._inbox.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            if not self._process(batch) or stop:
                return

    def _decode(self, m: _Msg) -> Decoded:
        fp = self.frigate_prefix
        if fp and m.topic in (f"{fp}/events", f"{fp}/reviews"):
            return decode_frigate(m.topic, m.payload, hasher=self.hasher, options=self.frigate_options)
        return decode_cloudevents(m.payload, where=f"mqtt topic {m.topic}")

    def _process(self, batch: list[_Msg]) -> bool:
        """Commit one batch, then acknowledge it in order; False when the store is closed."""
        decoded = [self._decode(m) for m in batch]
        events: list[LiveEvent] = [e for d in decoded for e in d.events]
        try:
            for m, d in zip(batch, decoded):
                if d.reason is not None:
                    self._retry(lambda: self.store.dead_letter(d.raw, d.reason, source=f"mqtt:{m.topic}"))
            results = self._retry(lambda: self.store.append_many(events)) if events else []
        except StoreClosedError:
            log.error("MQTT ingest: the event store is closed; %d message(s) left unacknowledged", len(batch))
            return False
        with self._cond:
            for m in batch:
                self._client.ack(m.mid, m.qos)
            st = self.stats
            st["acked"] += len(batch)
            st["batches"] += 1
            st["events"] += len(events)
            st["dead_lettered"] += sum(d.reason is not None for d in decoded)
            for r in results:
                if r.status is AppendStatus.LATE:
                    st["accepted"] += 1
                st[r.status.value] += 1
            self._cond.notify_all()
        return True

    def _retry(self, fn: Any) -> Any:
        delay = 0.05
        while True:
            try:
                return fn()
            except StoreClosedError:
                raise
            except Exception as exc:  # busy/locked database, disk full ...: keep the messages, retry
                with self._lock:
                    self.stats["store_retries"] += 1
                log.warning("MQTT ingest: event store failed (%s); retrying in %.2f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
