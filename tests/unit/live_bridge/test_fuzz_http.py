"""Property-based fuzzing of the HTTP ingest API with schemathesis (driven by the app's OpenAPI
schema, which documents the CloudEvent request bodies): POST /events, POST /events:batch and
GET /healthz, with a valid key, must never answer 5xx (``not_a_server_error``). Deterministic
(``derandomize``), 50 examples per operation."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from live_bridge.http_in import create_app
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import SqliteEventStore

KEY = "fuzz-key-0123456789abcdef"


def test_ingest_app_never_answers_5xx(tmp_path) -> None:  # noqa: ANN001
    st = SqliteEventStore(tmp_path / "live.sqlite", synchronous="NORMAL")
    app = create_app(st, None, LiveBridgeSettings(api_keys=(KEY,)), rate_per_key_s=None)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert {(o.method.upper(), o.path) for o in ops} >= {("POST", "/events"), ("POST", "/events:batch"),
                                                         ("GET", "/healthz")}
    statuses: Counter[int] = Counter()
    try:
        for op in ops:
            @given(case=op.as_strategy())
            @settings(max_examples=50, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:  # noqa: ANN001
                case.headers = {**(case.headers or {}), "X-API-Key": KEY}
                resp = case.call_and_validate(checks=[not_a_server_error])
                statuses[resp.status_code] += 1

            run()
    finally:
        st.close()
    assert sum(statuses.values()) >= 100 and not any(s >= 500 for s in statuses)
    # the generated bodies reached validation (422) and not only the 400/415 checks
    assert statuses[422] > 0, statuses
