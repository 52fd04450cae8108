"""The :class:`Component` protocol: what hazards, crowds, sensors, patrols and responders
implement to take part in a :class:`~twin.core.Twin` run (DESIGN.md, "Layout": ``twin`` core
never imports ``agents`` or ``scenarios``; they plug in through this protocol).

Life cycle:

1. ``twin.add(component)`` calls ``component.attach(twin)`` once. This is where a component
   registers its numpy arrays in ``twin.state`` (struct-of-arrays storage), takes its random
   stream with ``twin.rng(component.name)``, and may subscribe to the bus for finer control.
   The twin then routes every published event to ``component.on_event`` (components filter by
   type themselves, e.g. ``if isinstance(event, RouteBlocked): ...``).
2. Each tick, ``component.step(t, dt)`` advances the component's state from sim time ``t`` to
   ``t + dt`` (seconds). Components step in the order they were added (hazards, then crowd,
   then sensors -- the order of DESIGN.md "The run loop"). A step may publish events on
   ``twin.bus`` (with ``t=t`` or a time inside the step) and may call ``twin.stop()``.
3. Snapshot/restore (optional): a component whose state is *not* fully held in ``twin.state``
   arrays or in random streams from ``twin.rng`` (which the twin saves itself) implements
   ``get_state() -> dict`` and ``set_state(state: dict) -> None``. ``get_state`` returns
   anything :func:`copy.deepcopy` can copy (the twin deep-copies it); ``set_state`` receives a
   private copy of what ``get_state`` returned and must put the component back exactly, so that
   a restored twin continues identically. Arrays registered in ``twin.state`` are restored in
   place (same objects) when shapes match, so references a component keeps stay valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from twin.events import Event

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = ["BaseComponent", "Component", "StatefulComponent"]


@runtime_checkable
class Component(Protocol):
    """Something that lives in the twin: see the module docstring for the life cycle."""

    name: str

    def attach(self, twin: Twin) -> None:
        """Called once by ``Twin.add``: register arrays, take random streams, keep ``twin``."""
        ...

    def step(self, t: float, dt: float) -> None:
        """Advance own state from sim time ``t`` to ``t + dt`` (s)."""
        ...

    def on_event(self, event: Event) -> None:
        """React to a published event (every event is delivered; filter by type)."""
        ...


@runtime_checkable
class StatefulComponent(Component, Protocol):
    """A component with state outside ``twin.state`` that snapshot/restore must save."""

    def get_state(self) -> dict[str, Any]:
        """Everything needed to continue identically (deep-copyable)."""
        ...

    def set_state(self, state: dict[str, Any]) -> None:
        """Put the component back to ``state`` (a private copy of a ``get_state`` result)."""
        ...


class BaseComponent:
    """Convenience base with no-op defaults; keeps the twin in ``self.twin`` on attach.
    Subclasses set ``name`` (class attribute or in ``__init__``) and override what they need."""

    name: str = "component"

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self.twin: Twin | None = None

    def attach(self, twin: Twin) -> None:
        self.twin = twin

    def step(self, t: float, dt: float) -> None:
        return None

    def on_event(self, event: Event) -> None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
