"""The :class:`Twin` facade: one clock, one bus, one state store for a run (DESIGN.md,
"The run loop").

A twin owns a SimPy environment (a ``RealtimeEnvironment`` for drills and live mode, paced at
``speed`` times wall-clock), an :class:`~twin.bus.EventBus`, the struct-of-arrays
:class:`~twin.state.StateArrays`, the :class:`~twin.recorder.Recorder`, and the components
(hazards, crowd, sensors, ...). A single SimPy process ticks the physics; each tick at sim time
``t`` it

1. publishes the live events posted (thread-safely) since the last tick, in posting order, each
   with ``t`` set to the tick time,
2. serves pending :meth:`Twin.request_snapshot` requests and lets the recorder take its periodic
   field snapshot,
3. calls ``step(t, dt)`` on every component in the order they were added,
4. advances the clock by ``dt``.

Ticks lie on the grid ``k * dt`` (computed from ``k``, so the clock does not drift); a run that
ends off the grid makes its last step shorter. Events scheduled with :meth:`Twin.schedule`
(drill and scenario injects) are published at exactly their time; at a time where a tick also
falls they are published before that tick's steps (they use SimPy's URGENT priority), so the
order never depends on when they were scheduled. Every event reaches the components'
``on_event`` (in the order added) and then the recorder.

:meth:`Twin.snapshot` / :meth:`Twin.restore` fork "what happens next": the snapshot holds the
time, copies of all state arrays, each component's ``get_state()``, the bit-generator state of
every random stream and the scheduled events not yet published (plus the recording so far);
restoring rebuilds the SimPy environment at the snapshot time so that ``run(until=...)``
continues exactly as the original did.

Randomness: ``seed`` (an int or a replication's ``SeedSequence``) is the root of every stream;
``twin.rng(name)`` is the stream ``name`` (see :mod:`twin.seeding`). Same site, components and
seed give the same recording.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import queue
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Generator as PyGenerator

import numpy as np
import simpy
import simpy.rt
from numpy.random import Generator, SeedSequence

from twin.bus import EventBus
from twin.component import Component
from twin.events import Event, RunFinished, RunStarted, SnapshotTaken
from twin.recorder import Recorder
from twin.seeding import name_key, root_sequence, stream
from twin.state import StateArrays

__all__ = ["Twin", "TwinSnapshot"]

_URGENT = 0  # simpy.events.URGENT: before NORMAL events at the same time


@dataclass(frozen=True)
class TwinSnapshot:
    """Everything needed to continue a twin from sim time ``t`` (s): see :meth:`Twin.snapshot`.
    ``pending`` lists the scheduled events not yet published as ``(at, seq, event)`` in
    scheduling order; ``recorder`` is the recording up to ``t``."""

    t: float
    arrays: dict[str, np.ndarray]
    components: dict[str, dict[str, Any]]
    rngs: dict[str, dict[str, Any]]
    pending: tuple[tuple[float, int, Event], ...]
    recorder: dict[str, Any]
    started: bool
    seed_sequence: SeedSequence
    next_seq: int
    label: str | None = None


class Twin:
    """The digital twin of one site for one run (see the module docstring).

    ``site`` is a :class:`geometry.site.Site` (``None`` is allowed: the core does not read it;
    components do). ``dt`` is the physics tick in s. ``realtime=True`` paces the clock at
    ``speed`` sim seconds per wall second (``simpy.rt.RealtimeEnvironment(factor=1/speed,
    strict=False)``). ``recorder`` defaults to ``Recorder(snapshot_every_s=snapshot_every_s)``.
    ``scenario`` names the scenario in ``RunStarted``.
    """

    def __init__(
        self,
        site: Any,
        *,
        dt: float = 1.0,
        seed: int | SeedSequence = 0,
        realtime: bool = False,
        speed: float = 1.0,
        recorder: Recorder | None = None,
        snapshot_every_s: float | None = 60.0,
        scenario: str = "",
    ) -> None:
        if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not math.isfinite(dt) or dt <= 0:
            raise ValueError(f"Twin: dt must be a positive number of seconds, got {dt!r}")
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not math.isfinite(speed) or speed <= 0:
            raise ValueError(f"Twin: speed must be a positive factor (sim s per wall s), got {speed!r}")
        self.site = site
        self.dt = float(dt)
        self.realtime = bool(realtime)
        self.speed = float(speed)
        self.scenario = scenario
        self.seed_sequence: SeedSequence = root_sequence(seed)
        self._env_gen = 0
        self.env: simpy.Environment = self._make_env(0.0)
        self.bus = EventBus()
        self.state = StateArrays()
        self.components: list[Component] = []
        self._rngs: dict[str, Generator] = {}
        self._rng_keys: dict[int, str] = {}
        self._pending: dict[int, tuple[float, Event]] = {}
        self._next_seq = 0
        self._live: queue.Queue[Event] = queue.Queue()
        self._snapshot_requests: queue.Queue[Future[TwinSnapshot]] = queue.Queue()
        self._stop_requested = False
        self._running = False
        self._started = False
        self.recorder = recorder if recorder is not None else Recorder(snapshot_every_s=snapshot_every_s)
        self.recorder.attach(self)

    # --- clock ------------------------------------------------------------------------------

    def _make_env(self, initial_time: float) -> simpy.Environment:
        if self.realtime:
            return simpy.rt.RealtimeEnvironment(initial_time=initial_time, factor=1.0 / self.speed, strict=False)
        return simpy.Environment(initial_time=initial_time)

    @property
    def now(self) -> float:
        """Current sim time in s."""
        return float(self.env.now)

    @property
    def running(self) -> bool:
        """True while :meth:`run` is executing."""
        return self._running

    def _next_tick_time(self, t: float) -> float:
        k = math.floor(t / self.dt + 1e-9) + 1
        return k * self.dt

    # --- randomness -------------------------------------------------------------------------

    def rng(self, name: str) -> Generator:
        """The random stream ``name`` of this run (created on first use, then the same object)."""
        gen = self._rngs.get(name)
        if gen is None:
            key = name_key(name)
            other = self._rng_keys.get(key)
            if other is not None and other != name:
                raise ValueError(f"rng stream names {other!r} and {name!r} have the same crc32 key; rename one")
            gen = stream(self.seed_sequence, name)
            self._rngs[name] = gen
            self._rng_keys[key] = name
        return gen

    # --- components -------------------------------------------------------------------------

    def add(self, component: Component) -> Component:
        """Attach ``component``, route every event to its ``on_event``, and step it each tick
        after the components added before it. Returns ``component``."""
        if not isinstance(component, Component):
            lacking = [a for a in ("name", "attach", "step", "on_event") if not hasattr(component, a)]
            raise TypeError(
                f"Twin.add: {type(component).__name__} is not a Component (lacks {', '.join(lacking)})"
            )
        if any(c.name == component.name for c in self.components):
            raise ValueError(f"Twin.add: a component named {component.name!r} is already added")
        component.attach(self)
        self.components.append(component)
        self.bus.subscribe(component.on_event)
        return component

    def component(self, name: str) -> Component:
        """The component called ``name``."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component named {name!r}; added: {[c.name for c in self.components]}")

    # --- events -----------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Publish ``event`` on the bus now (from the twin's own thread)."""
        self.bus.publish(event)

    def schedule(self, event: Event, *, at: float) -> int:
        """Publish ``event`` at sim time ``at`` (s) with ``t=at`` (drill/scenario injects).
        Returns a handle for :meth:`cancel`. Must be called from the twin's thread."""
        if not isinstance(event, Event):
            raise TypeError(f"Twin.schedule: expected an Event, got {type(event).__name__}")
        at = float(at)
        if not math.isfinite(at) or at < self.now - 1e-9:
            raise ValueError(f"Twin.schedule: at={at} s is before the current sim time {self.now} s")
        at = max(at, self.now)
        seq = self._next_seq
        self._next_seq += 1
        self._pending[seq] = (at, event)
        self._arm(seq, at)
        return seq

    def cancel(self, handle: int) -> bool:
        """Cancel a scheduled event; False if it already fired or was cancelled."""
        return self._pending.pop(handle, None) is not None

    @property
    def pending(self) -> list[tuple[float, Event]]:
        """Scheduled events not yet published, as ``(at, event)`` in scheduling order."""
        return [self._pending[k] for k in sorted(self._pending)]

    def _arm(self, seq: int, at: float) -> None:
        ev = simpy.Event(self.env)
        ev._ok = True  # a pre-triggered event, as simpy.Timeout builds itself
        ev._value = None
        ev.callbacks.append(partial(self._fire, seq, self._env_gen))
        self.env.schedule(ev, _URGENT, at - self.now)

    def _fire(self, seq: int, gen: int, _ev: simpy.Event) -> None:
        if gen != self._env_gen:
            return
        item = self._pending.pop(seq, None)
        if item is None:
            return
        at, event = item
        self.bus.publish(event if event.t == at else dataclasses.replace(event, t=at))

    def post(self, event: Event) -> None:
        """Thread-safe: queue a live event; it is published at the next tick boundary with ``t``
        set to that tick's sim time (its ``source`` is kept)."""
        if not isinstance(event, Event):
            raise TypeError(f"Twin.post: expected an Event, got {type(event).__name__}")
        self._live.put(event)

    def _drain_live(self, t: float) -> None:
        for _ in range(self._live.qsize()):
            try:
                event = self._live.get_nowait()
            except queue.Empty:
                break
            self.bus.publish(event if event.t == t else dataclasses.replace(event, t=t))

    # --- running ----------------------------------------------------------------------------

    def stop(self) -> None:
        """End the current run at the next tick boundary (thread-safe; components may call it,
        e.g. when everyone is out)."""
        self._stop_requested = True

    def run(self, *, until: float, progress: Callable[[float], None] | None = None) -> str:
        """Run the tick process until sim time ``until`` (s) or :meth:`stop`. Publishes
        ``RunStarted`` before the first run's first tick and ``RunFinished`` when it returns.
        ``progress(t)`` is called after each tick. Returns ``"until"`` or ``"stopped"``."""
        if self._running:
            raise RuntimeError("Twin.run: the twin is already running")
        until = float(until)
        if not math.isfinite(until) or until < self.now - 1e-9:
            raise ValueError(f"Twin.run: until={until} s must be a finite time not before now ({self.now} s)")
        self._stop_requested = False
        self._running = True
        try:
            if not self._started:
                self._started = True
                entropy = self.seed_sequence.entropy
                self.bus.publish(
                    RunStarted(
                        t=self.now,
                        seed=int(entropy) if isinstance(entropy, (int, np.integer)) else -1,
                        scenario=self.scenario,
                        spawn_key=tuple(int(k) for k in self.seed_sequence.spawn_key),
                    )
                )
            if isinstance(self.env, simpy.rt.RealtimeEnvironment):
                self.env.env_start = self.env.now  # pace from here, not from creation
                self.env.sync()
            proc = self.env.process(self._ticker(until, progress))
            reason: str = self.env.run(until=proc)
            self.recorder.on_tick(self.now)
            self._serve_snapshot_requests()
            self.bus.publish(RunFinished(t=self.now, reason=reason))
            return reason
        finally:
            self._running = False

    def _ticker(self, until: float, progress: Callable[[float], None] | None) -> PyGenerator[Any, Any, str]:
        env = self.env
        tol = 1e-9 * max(1.0, abs(until))
        while True:
            if self._stop_requested:
                return "stopped"
            t = float(env.now)
            if t >= until - tol:
                return "until"
            self._drain_live(t)
            self._serve_snapshot_requests()
            self.recorder.on_tick(t)
            end = min(self._next_tick_time(t), until)
            dt = end - t
            for component in tuple(self.components):
                component.step(t, dt)
            yield env.timeout(dt)
            if progress is not None:
                progress(float(env.now))

    # --- snapshot / restore -----------------------------------------------------------------

    def request_snapshot(self) -> Future[TwinSnapshot]:
        """Thread-safe: ask for a snapshot at the next tick boundary of a run (or at its end).
        For operators forking "what happens next" from a live twin running in another thread."""
        fut: Future[TwinSnapshot] = Future()
        self._snapshot_requests.put(fut)
        return fut

    def _serve_snapshot_requests(self) -> None:
        while True:
            try:
                fut = self._snapshot_requests.get_nowait()
            except queue.Empty:
                return
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(self._capture(None))
                except Exception as exc:  # hand the error to the requesting thread
                    fut.set_exception(exc)

    def snapshot(self, label: str | None = None) -> TwinSnapshot:
        """Capture the twin between runs (see :class:`TwinSnapshot`). With ``label``, a
        ``SnapshotTaken`` event is published first (and is part of the snapshot). During a run
        use :meth:`request_snapshot`."""
        if self._running:
            raise RuntimeError("Twin.snapshot: the twin is running; use request_snapshot() for a tick-boundary snapshot")
        if label is not None:
            self.bus.publish(SnapshotTaken(t=self.now, label=label))
        return self._capture(label)

    def _capture(self, label: str | None) -> TwinSnapshot:
        components: dict[str, dict[str, Any]] = {}
        for c in self.components:
            get_state = getattr(c, "get_state", None)
            if callable(get_state):
                components[c.name] = copy.deepcopy(get_state())
        return TwinSnapshot(
            t=self.now,
            arrays=self.state.copy(),
            components=components,
            rngs={name: copy.deepcopy(g.bit_generator.state) for name, g in self._rngs.items()},
            pending=tuple((self._pending[k][0], k, self._pending[k][1]) for k in sorted(self._pending)),
            recorder=self.recorder.get_state(),
            started=self._started,
            seed_sequence=self.seed_sequence,
            next_seq=self._next_seq,
            label=label,
        )

    def restore(self, snap: TwinSnapshot) -> None:
        """Put the twin back to ``snap``: a fresh SimPy environment at ``snap.t`` (``self.env``
        is replaced -- components that run SimPy processes re-create them in ``set_state``),
        arrays loaded in place, components' ``set_state`` called, random streams reset (streams
        created after the snapshot go back to their initial state), pending scheduled events
        re-armed and the recording cut back to ``snap.t``. Live events already posted are kept.
        The snapshot itself is not modified and can be restored again."""
        if self._running:
            raise RuntimeError("Twin.restore: cannot restore while the twin is running")
        if not isinstance(snap, TwinSnapshot):
            raise TypeError(f"Twin.restore: expected a TwinSnapshot, got {type(snap).__name__}")
        names = [c.name for c in self.components]
        unknown = sorted(set(snap.components) - set(names))
        unsaved = [
            c.name for c in self.components if callable(getattr(c, "get_state", None)) and c.name not in snap.components
        ]
        unsettable = [
            c.name for c in self.components if c.name in snap.components and not callable(getattr(c, "set_state", None))
        ]
        problems = []
        if unknown:
            problems.append(f"the snapshot has state for component(s) {unknown} that this twin lacks (it has {names})")
        if unsaved:
            problems.append(f"component(s) {unsaved} have get_state() but the snapshot holds no state for them")
        if unsettable:
            problems.append(f"component(s) {unsettable} have saved state but no set_state()")
        if problems:
            raise ValueError("Twin.restore: " + "; ".join(problems))

        self.seed_sequence = snap.seed_sequence
        self._env_gen += 1
        self.env = self._make_env(snap.t)
        self.state.load(snap.arrays)
        for name in snap.rngs:
            self.rng(name)
        for name, gen in self._rngs.items():
            saved = snap.rngs.get(name)
            gen.bit_generator.state = (
                copy.deepcopy(saved) if saved is not None else stream(self.seed_sequence, name).bit_generator.state
            )
        self._pending = {}
        for at, seq, event in snap.pending:
            self._pending[seq] = (at, event)
            self._arm(seq, at)
        self._next_seq = snap.next_seq
        self.recorder.set_state(snap.recorder)
        self._started = snap.started
        self._stop_requested = False
        for c in self.components:
            if c.name in snap.components:
                c.set_state(copy.deepcopy(snap.components[c.name]))  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return (
            f"Twin(t={self.now}, dt={self.dt}, components={[c.name for c in self.components]}, "
            f"realtime={self.realtime})"
        )
