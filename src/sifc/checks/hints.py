""""Did you mean …?" for a value that nearly matches an allowed one: an enum
value with a typo, or a reference to an ID that is one slip away from an ID
that exists. Added after all layers ran, so the words are the same whichever
layer reported the finding first."""
from __future__ import annotations

import difflib

from ..findings import Finding
from ..files.package import DataPackage

#: how alike two values must be (difflib's ratio) to suggest one for the other;
#: 0.8 catches a dropped, doubled or swapped letter in a short word and stays
#: quiet for values that merely share a prefix
CUTOFF = 0.8
#: past this many candidates difflib's scan costs more than the hint is worth
MAX_CANDIDATES = 20_000


def closest(value: str, candidates) -> str | None:
    """The allowed value most like `value`, if one is alike enough."""
    found = difflib.get_close_matches(value, candidates, n=1, cutoff=CUTOFF)
    if not found:  # a different case only ('Forum' for 'forum') is a near miss too
        folded = {c.casefold(): c for c in candidates}
        return folded.get(value.casefold())
    return found[0]


def _candidates(package: DataPackage, frames: dict) -> dict[tuple[str, str], list[str]]:
    """(table, column) -> the values that column may hold."""
    out: dict[tuple[str, str], list[str]] = {}
    for name, resource in package.resources.items():
        schema = resource.schema
        for f in schema.fields:
            if f.enum is not None:
                out[(name, f.name)] = [str(v) for v in f.enum]
        refs = [(fk.field, fk.resource, fk.ref_field) for fk in schema.foreign_keys]
        refs += [(f.name, r, rf) for f, r, rf in schema.list_references()]
        for column, target, ref_field in refs:
            frame = frames.get(target)
            if frame is None or ref_field not in frame:
                continue
            values = [str(v) for v in frame[ref_field].dropna().unique()]
            if len(values) <= MAX_CANDIDATES:
                out[(name, column)] = values
    return out


def _items(finding: Finding, package: DataPackage) -> list[str]:
    resource = package.resources.get(finding.table or "")
    field = resource.schema.field(finding.column) if resource and finding.column in resource.schema.field_names \
        else None
    if field is not None and field.is_list:
        return [t for t in finding.value.split(field.delimiter) if t]
    return [finding.value]


def add_hints(package: DataPackage, frames: dict, findings: list[Finding]) -> None:
    """Append "did you mean" to enum and foreign-key findings in place."""
    candidates = None
    for f in findings:
        if f.rule not in ("enum", "foreign-key") or not f.value or not f.column:
            continue
        if candidates is None:
            candidates = _candidates(package, frames)
        allowed = candidates.get((f.table or "", f.column))
        if not allowed:
            continue
        allowed_set = set(allowed)
        guesses = [(item, closest(item, allowed)) for item in _items(f, package) if item not in allowed_set]
        guesses = [(item, guess) for item, guess in guesses if guess]
        if len(guesses) == 1 and guesses[0][0] == f.value:
            f.message += f" (did you mean {guesses[0][1]!r}?)"
        elif guesses:
            f.message += " (did you mean " + ", ".join(f"{g!r} for {i!r}" for i, g in guesses) + "?)"
