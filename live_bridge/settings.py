"""Settings of the live bridge, read once from the environment (embedded defaults need none).

``SHOUMEN_LIVE_DB``          path of the SQLite event store (default ``shoumen-live.sqlite``)
``SHOUMEN_LATENESS_S``       lateness window in s (default 300: five minutes of gateway buffering)
``SHOUMEN_PLATE_KEY``        the licence-plate HMAC key: 32+ hex characters or 16+ bytes of text;
                             no default -- a plate can only be hashed once a key is set
``SHOUMEN_PLATE_KEY_ID``     name of that key (default ``k1``), written into each plate event
``SHOUMEN_API_KEYS``         comma-separated API keys for HTTP ingest (``X-API-Key``), each 16+
                             characters; no default -- HTTP ingest refuses to start without one
``SHOUMEN_MQTT_HOST``        MQTT broker host (default ``127.0.0.1``)
``SHOUMEN_MQTT_PORT``        MQTT broker port (default 1883)
``SHOUMEN_MQTT_CLIENT_ID``   the subscriber's fixed client id, which names its persistent session
                             (default ``shoumen-live-bridge``)
``SHOUMEN_MQTT_USERNAME``    the bridge's MQTT account (default: none, anonymous); see
                             deploy/mosquitto/ for the broker's accounts and topic ACL
``SHOUMEN_MQTT_PASSWORD``    its password (kept out of ``repr``)
``SHOUMEN_IDENTITY_RETENTION_DAYS``  days person-identity events (plate reads) and dead letters
                             are kept before ``SqliteEventStore.purge_older_than`` deletes them
                             (default 30)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from live_bridge.vocabulary import PlateHasher

__all__ = ["LiveBridgeSettings"]


@dataclass(frozen=True)
class LiveBridgeSettings:
    """Live-bridge settings. ``plate_key`` is kept out of ``repr``."""

    db_path: str = "shoumen-live.sqlite"
    lateness_s: float = 300.0
    plate_key: bytes | None = field(default=None, repr=False)
    plate_key_id: str = "k1"
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    mqtt_client_id: str = "shoumen-live-bridge"
    mqtt_username: str | None = None
    mqtt_password: str | None = field(default=None, repr=False)
    identity_retention_days: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "LiveBridgeSettings":
        """Read the ``SHOUMEN_*`` variables above; raise ValueError naming a bad one."""
        env = os.environ if env is None else env
        try:
            lateness = float(env.get("SHOUMEN_LATENESS_S", "300"))
        except ValueError:
            raise ValueError(f"SHOUMEN_LATENESS_S: expected a number of seconds, got {env['SHOUMEN_LATENESS_S']!r}") from None
        if not lateness >= 0:
            raise ValueError(f"SHOUMEN_LATENESS_S: expected a number >= 0, got {lateness}")
        raw = env.get("SHOUMEN_PLATE_KEY")
        key: bytes | None = None
        if raw:
            try:
                key = bytes.fromhex(raw) if len(raw) >= 32 and len(raw) % 2 == 0 else raw.encode("utf-8")
            except ValueError:
                key = raw.encode("utf-8")
            if len(key) < 16:
                raise ValueError("SHOUMEN_PLATE_KEY: expected at least 16 bytes (32 hex characters)")
        api_keys = tuple(k.strip() for k in env.get("SHOUMEN_API_KEYS", "").split(",") if k.strip())
        if any(len(k) < 16 for k in api_keys):
            raise ValueError("SHOUMEN_API_KEYS: expected comma-separated keys of at least 16 characters each")
        try:
            port = int(env.get("SHOUMEN_MQTT_PORT", "1883"))
        except ValueError:
            raise ValueError(f"SHOUMEN_MQTT_PORT: expected a port number, got {env['SHOUMEN_MQTT_PORT']!r}") from None
        if not 0 < port < 65536:
            raise ValueError(f"SHOUMEN_MQTT_PORT: expected a port number 1..65535, got {port}")
        try:
            retention = float(env.get("SHOUMEN_IDENTITY_RETENTION_DAYS", "30"))
        except ValueError:
            raise ValueError(f"SHOUMEN_IDENTITY_RETENTION_DAYS: expected a number of days, got "
                             f"{env['SHOUMEN_IDENTITY_RETENTION_DAYS']!r}") from None
        if not retention >= 0:
            raise ValueError(f"SHOUMEN_IDENTITY_RETENTION_DAYS: expected a number >= 0, got {retention}")
        return cls(db_path=env.get("SHOUMEN_LIVE_DB", cls.db_path), lateness_s=lateness,
                   plate_key=key, plate_key_id=env.get("SHOUMEN_PLATE_KEY_ID", "k1") or "k1",
                   api_keys=api_keys, mqtt_host=env.get("SHOUMEN_MQTT_HOST", "127.0.0.1") or "127.0.0.1",
                   mqtt_port=port,
                   mqtt_client_id=env.get("SHOUMEN_MQTT_CLIENT_ID", "shoumen-live-bridge") or "shoumen-live-bridge",
                   mqtt_username=env.get("SHOUMEN_MQTT_USERNAME") or None,
                   mqtt_password=env.get("SHOUMEN_MQTT_PASSWORD") or None,
                   identity_retention_days=retention)

    def plate_hasher(self) -> PlateHasher:
        """The plate hasher for these settings; ValueError if no key is set."""
        if self.plate_key is None:
            raise ValueError("no licence-plate key: set SHOUMEN_PLATE_KEY (32+ hex characters) to hash plates")
        return PlateHasher(self.plate_key, key_id=self.plate_key_id)
