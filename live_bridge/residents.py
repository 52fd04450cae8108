"""The resident register: which flats the alarm rules must treat with special care.

For the live twin, "who lives where" comes from the community's resident register (the
community office's list of elderly people living alone and people with disabilities, which the
grid workers keep current on their weekly visits: domain.md, practice 8). The alarm rules need
only a few flags per dwelling unit, never a name:

* ``elderly_alone`` -- an elderly person lives alone here (no-activity monitoring; a smoke alarm
  here is top priority);
* ``needs_assistance`` -- someone here cannot evacuate unaided (wheelchair, bedridden);
* ``family`` -- contact ids of family members to notify (ids into the community's contact book,
  not phone numbers: PIPL "minimum necessary", domain.md practice 10);
* ``doctor`` -- the community doctor's contact id for this flat (None: the register's default).

:meth:`ResidentRegister.from_csv` reads a CSV with the header
``unit,elderly_alone,needs_assistance,family,doctor`` (``family`` holds ``;``-separated ids;
booleans ``true/false/1/0/yes/no``) and raises :class:`RegisterError` naming the file, line and
field of every bad value. Two synthetic registers serve the sample estate:
:meth:`ResidentRegister.from_site` marks the flats that carry an emergency button (the sample
places one in every elderly-living-alone household: ``geometry.sample``, 5 % of households, a
documented assumption there) and :meth:`ResidentRegister.from_people` takes the
``lives_alone`` / ``needs_assistance`` flags drawn by :func:`agents.demographics.synthesize_people`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from agents.demographics import People
from geometry.site import DeviceKind, Site

__all__ = ["RegisterError", "Resident", "ResidentRegister", "DEFAULT_DOCTOR"]

#: Contact id of the community doctor when the register names none for a flat.
DEFAULT_DOCTOR = "community-doctor"
_COLUMNS = ("unit", "elderly_alone", "needs_assistance", "family", "doctor")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


class RegisterError(ValueError):
    """A resident register that breaks the format; ``problems`` names file, line and field."""

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        msg = self.problems[0] if len(self.problems) == 1 else (
            f"{len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems))
        super().__init__(head + msg)


@dataclass(frozen=True)
class Resident:
    """The register's flags for one dwelling unit (no personal data beyond contact ids)."""

    unit: str
    elderly_alone: bool = False
    needs_assistance: bool = False
    family: tuple[str, ...] = ()
    doctor: str | None = None


class ResidentRegister:
    """Unit id -> :class:`Resident`. ``default_doctor`` is the community doctor's contact id
    used for flats whose entry names none."""

    def __init__(self, residents: Iterable[Resident] = (), *, default_doctor: str = DEFAULT_DOCTOR) -> None:
        self._by_unit: dict[str, Resident] = {}
        for r in residents:
            if r.unit in self._by_unit:
                raise RegisterError([f"unit {r.unit!r} is listed twice"])
            self._by_unit[r.unit] = r
        self.default_doctor = default_doctor

    def __len__(self) -> int:
        return len(self._by_unit)

    def __contains__(self, unit: object) -> bool:
        return unit in self._by_unit

    def __iter__(self) -> Iterator[Resident]:
        return iter(list(self._by_unit.values()))

    def get(self, unit: str | None) -> Resident | None:
        return None if unit is None else self._by_unit.get(unit)

    def is_elderly_alone(self, unit: str | None) -> bool:
        r = self.get(unit)
        return bool(r and r.elderly_alone)

    def elderly_alone_units(self) -> list[str]:
        """Units flagged elderly-alone, sorted."""
        return sorted(u for u, r in self._by_unit.items() if r.elderly_alone)

    def doctor_of(self, unit: str | None) -> str:
        r = self.get(unit)
        return (r.doctor if r and r.doctor else None) or self.default_doctor

    def family_of(self, unit: str | None) -> tuple[str, ...]:
        r = self.get(unit)
        return r.family if r else ()

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_csv(cls, path: str | Path | io.TextIOBase, *, site: Site | None = None,
                 default_doctor: str = DEFAULT_DOCTOR) -> "ResidentRegister":
        """Read a register CSV (module docstring). With ``site``, every unit must be one of its
        dwelling units. Raises :class:`RegisterError` listing every problem."""
        if isinstance(path, (str, Path)):
            name = str(path)
            try:
                text = Path(path).read_text(encoding="utf-8-sig")
            except OSError as exc:
                raise RegisterError([f"cannot read the register ({exc.strerror or exc})"], source=name) from None
        else:
            name = getattr(path, "name", "<stream>")
            text = path.read()
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ("unit", "elderly_alone") if c not in header]
        unknown = [h for h in header if h not in _COLUMNS]
        if missing or unknown:
            p = []
            if missing:
                p.append(f"line 1: header lacks column(s) {', '.join(missing)}; expected {','.join(_COLUMNS)}")
            if unknown:
                p.append(f"line 1: unknown column(s) {', '.join(unknown)}; expected some of {','.join(_COLUMNS)}")
            raise RegisterError(p, source=name)
        valid_units: set[str] | None = None
        if site is not None:
            valid_units = {u for b in site.buildings for lv in b.levels for u in b.unit_ids(lv)}
        problems: list[str] = []
        out: list[Resident] = []
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
            unit = row.get("unit", "")
            if not unit:
                problems.append(f"line {line}: field 'unit' is empty; expected a dwelling-unit id such as B03-L05-U02")
                continue
            if unit in seen:
                problems.append(f"line {line}: field 'unit' {unit!r} already listed on line {seen[unit]}")
                continue
            seen[unit] = line
            if valid_units is not None and unit not in valid_units:
                problems.append(f"line {line}: field 'unit' {unit!r} is not a dwelling unit of site {site.name!r}")
            flags = {}
            for fld in ("elderly_alone", "needs_assistance"):
                v = row.get(fld, "").lower()
                if v in _TRUE:
                    flags[fld] = True
                elif v in _FALSE:
                    flags[fld] = False
                else:
                    problems.append(f"line {line}: field '{fld}' must be true/false (or 1/0, yes/no), "
                                    f"got {row.get(fld)!r}")
                    flags[fld] = False
            family = tuple(f.strip() for f in row.get("family", "").split(";") if f.strip())
            out.append(Resident(unit=unit, elderly_alone=flags["elderly_alone"],
                                needs_assistance=flags["needs_assistance"], family=family,
                                doctor=row.get("doctor") or None))
        if problems:
            raise RegisterError(problems, source=name)
        return cls(out, default_doctor=default_doctor)

    def to_csv(self, path: str | Path) -> None:
        """Write the register in the :meth:`from_csv` format."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(_COLUMNS)
            for r in sorted(self._by_unit.values(), key=lambda r: r.unit):
                w.writerow([r.unit, str(r.elderly_alone).lower(), str(r.needs_assistance).lower(),
                            ";".join(r.family), r.doctor or ""])

    @classmethod
    def from_site(cls, site: Site, *, family_per_flat: int = 1,
                  default_doctor: str = DEFAULT_DOCTOR) -> "ResidentRegister":
        """Synthetic register of a site whose elderly-alone flats carry an emergency button (the
        sample estate, ``geometry.sample``): each such flat is ``elderly_alone`` with
        ``family_per_flat`` placeholder contact ids ``family-<unit>-<k>``."""
        units = sorted({d.unit for d in site.devices if d.kind == DeviceKind.EMERGENCY_BUTTON and d.unit})
        return cls([Resident(unit=u, elderly_alone=True,
                             family=tuple(f"family-{u}-{k + 1}" for k in range(family_per_flat)))
                    for u in units], default_doctor=default_doctor)

    @classmethod
    def from_people(cls, people: People, *, family_per_flat: int = 1,
                    default_doctor: str = DEFAULT_DOCTOR) -> "ResidentRegister":
        """Synthetic register from drawn residents (:func:`agents.demographics.synthesize_people`):
        a flat is ``elderly_alone`` when one of its people ``lives_alone`` and
        ``needs_assistance`` when one of them needs help."""
        alone: set[str] = set()
        assist: set[str] = set()
        for i in range(len(people)):
            if people.lives_alone[i]:
                alone.add(people.unit_of(i))
            if people.needs_assistance[i]:
                assist.add(people.unit_of(i))
        return cls([Resident(unit=u, elderly_alone=u in alone, needs_assistance=u in assist,
                             family=tuple(f"family-{u}-{k + 1}" for k in range(family_per_flat)))
                    for u in sorted(alone | assist)], default_doctor=default_doctor)
