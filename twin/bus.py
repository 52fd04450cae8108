"""The event bus: synchronous, in-order, deterministic dispatch of :class:`~twin.events.Event`.

Handlers run in the thread that publishes (the twin's tick process; live events reach it
through ``Twin.post``, never directly). A handler may publish further events: they are queued
and dispatched after the current event has reached every subscriber, first in first out, so the
order in which handlers see events -- and hence a recording -- depends only on the order of
subscription and publication, never on timing. The bus keeps no history (the recorder does).

Subscribers run in ascending ``order`` (ties: subscription order). Components use the default
``order=0``; the recorder subscribes with :data:`RECORDER_ORDER` so that it sees every event
after the components.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from twin.events import Event

__all__ = ["RECORDER_ORDER", "EventBus", "Handler"]

Handler = Callable[[Event], None]

#: Subscription order used by the recorder: after every ordinary subscriber.
RECORDER_ORDER = 1_000_000


@dataclass(eq=False)
class _Subscription:
    handler: Handler
    types: tuple[type[Event], ...] | None
    order: int
    seq: int
    active: bool = field(default=True)


class EventBus:
    """Publish/subscribe with synchronous FIFO dispatch (see the module docstring)."""

    def __init__(self) -> None:
        self._subs: list[_Subscription] = []
        self._queue: deque[Event] = deque()
        self._dispatching = False
        self._seq = 0

    def subscribe(
        self,
        handler: Handler,
        *,
        types: tuple[type[Event], ...] | None = None,
        order: int = 0,
    ) -> Callable[[], None]:
        """Call ``handler(event)`` for every published event (or only for instances of
        ``types``). Returns a function that unsubscribes (idempotent; safe during dispatch:
        the handler gets no further events, including the rest of the current one's)."""
        if not callable(handler):
            raise TypeError(f"EventBus.subscribe: handler must be callable, got {handler!r}")
        if types is not None:
            if isinstance(types, type):
                types = (types,)
            types = tuple(types)
            bad = [t for t in types if not (isinstance(t, type) and issubclass(t, Event))]
            if bad or not types:
                raise TypeError(
                    f"EventBus.subscribe: types must be a non-empty tuple of Event subclasses, got {types!r}"
                )
        sub = _Subscription(handler, types, int(order), self._seq)
        self._seq += 1
        self._subs.append(sub)
        self._subs.sort(key=lambda s: (s.order, s.seq))

        def unsubscribe() -> None:
            if sub.active:
                sub.active = False
                self._subs.remove(sub)

        return unsubscribe

    @property
    def n_subscribers(self) -> int:
        """How many handlers are subscribed."""
        return len(self._subs)

    @property
    def dispatching(self) -> bool:
        """True while an event is being dispatched (a handler is running)."""
        return self._dispatching

    def publish(self, event: Event) -> None:
        """Dispatch ``event`` to every matching subscriber, in order. Called from a handler, the
        event is queued and dispatched after the current one (FIFO). If a handler raises, the
        events still queued are dropped and the exception propagates to the outer publisher."""
        if not isinstance(event, Event):
            raise TypeError(f"EventBus.publish: expected an Event, got {type(event).__name__}: {event!r}")
        self._queue.append(event)
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._queue:
                ev = self._queue.popleft()
                for sub in tuple(self._subs):
                    if not sub.active:
                        continue
                    if sub.types is None or isinstance(ev, sub.types):
                        sub.handler(ev)
        except BaseException:
            self._queue.clear()
            raise
        finally:
            self._dispatching = False
