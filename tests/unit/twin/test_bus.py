"""Event bus: ordering, filtering, nested publication, unsubscribe, errors."""

from __future__ import annotations

import pytest

from twin.bus import EventBus
from twin.events import AlarmCleared, AlarmRaised, Event, RouteBlocked, RouteReopened


def test_in_order_dispatch_to_all() -> None:
    bus = EventBus()
    seen: list[tuple[str, str]] = []
    bus.subscribe(lambda e: seen.append(("a", e.type)))
    bus.subscribe(lambda e: seen.append(("b", e.type)))
    bus.publish(RouteBlocked(t=0, target="S1"))
    bus.publish(RouteReopened(t=1, target="S1"))
    assert seen == [("a", "RouteBlocked"), ("b", "RouteBlocked"), ("a", "RouteReopened"), ("b", "RouteReopened")]


def test_type_filter_includes_subclasses() -> None:
    bus = EventBus()
    got: list[Event] = []
    bus.subscribe(got.append, types=(RouteBlocked,))
    bus.publish(AlarmRaised(t=0))
    bus.publish(RouteBlocked(t=0, target="S1"))
    assert [e.type for e in got] == ["RouteBlocked"]
    every: list[Event] = []
    bus.subscribe(every.append, types=(Event,))
    bus.publish(AlarmCleared(t=1))
    assert [e.type for e in every] == ["AlarmCleared"]


def test_nested_publish_is_queued_fifo() -> None:
    bus = EventBus()
    log: list[str] = []

    def first(e: Event) -> None:
        log.append(f"first:{e.type}")
        if isinstance(e, AlarmRaised):
            bus.publish(RouteBlocked(t=e.t, target="S1"))
            bus.publish(RouteBlocked(t=e.t, target="S2"))

    def second(e: Event) -> None:
        log.append(f"second:{e.type}:{e.subject}")

    bus.subscribe(first)
    bus.subscribe(second)
    bus.publish(AlarmRaised(t=0, building="B1"))
    # AlarmRaised reaches every subscriber before the events it caused
    assert log == [
        "first:AlarmRaised", "second:AlarmRaised:B1",
        "first:RouteBlocked", "second:RouteBlocked:S1",
        "first:RouteBlocked", "second:RouteBlocked:S2",
    ]


def test_order_argument_puts_late_subscribers_last() -> None:
    bus = EventBus()
    log: list[str] = []
    bus.subscribe(lambda e: log.append("late"), order=10)
    bus.subscribe(lambda e: log.append("early"))
    bus.publish(AlarmCleared(t=0))
    assert log == ["early", "late"]


def test_unsubscribe_including_during_dispatch() -> None:
    bus = EventBus()
    log: list[str] = []
    unsub_b: list = []

    def a(e: Event) -> None:
        log.append("a")
        unsub_b[0]()

    unsub_a = bus.subscribe(a)
    unsub_b.append(bus.subscribe(lambda e: log.append("b")))
    bus.publish(AlarmCleared(t=0))
    assert log == ["a"]  # b removed before its turn
    unsub_a()
    unsub_a()  # idempotent
    bus.publish(AlarmCleared(t=1))
    assert log == ["a"] and bus.n_subscribers == 0


def test_handler_error_propagates_and_clears_queue() -> None:
    bus = EventBus()
    log: list[str] = []

    def boom(e: Event) -> None:
        if isinstance(e, AlarmRaised):
            bus.publish(RouteBlocked(t=0, target="S9"))
            raise RuntimeError("handler failed")
        log.append(e.subject)

    bus.subscribe(boom)
    with pytest.raises(RuntimeError, match="handler failed"):
        bus.publish(AlarmRaised(t=0))
    assert not bus.dispatching
    bus.publish(RouteBlocked(t=1, target="S1"))
    assert log == ["S1"]  # the queued S9 was dropped, the bus still works


def test_bad_arguments() -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="expected an Event"):
        bus.publish({"type": "AlarmRaised"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        bus.subscribe("not a function")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Event subclasses"):
        bus.subscribe(print, types=(int,))  # type: ignore[arg-type]
