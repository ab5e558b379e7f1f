"""Table Schemas: the single source of column definitions.

Everything else (pandera schemas, GX suites, the data dictionary, SQLite DDL)
is derived from the objects this module reads.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str = ""
    description: str = ""
    example: Any = None
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    #: for `list` fields: the resource and field every item must exist in
    references: tuple[str, str] | None = None
    item_pattern: str | None = None
    delimiter: str = ";"
    #: "cjk": Simplified Chinese only; "latin": English only; None: any text
    script: str | None = None
    #: a date field that may hold planned (future) dates
    planned: bool = False
    true_values: tuple[str, ...] = ("true",)
    false_values: tuple[str, ...] = ("false",)

    @property
    def is_list(self) -> bool:
        return self.type == "list"


@dataclass(frozen=True)
class ForeignKey:
    field: str
    resource: str  # same table for a self-reference
    ref_field: str


@dataclass(frozen=True)
class TableSchema:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    rules: tuple[dict, ...] = ()
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def list_references(self) -> list[tuple[Field, str, str]]:
        return [(f, *f.references) for f in self.fields if f.references]


def parse_field(raw: dict) -> Field:
    c = raw.get("constraints", {})
    ext = raw.get("sifc", {})
    refs = ext.get("references")
    return Field(
        name=raw["name"],
        type=raw.get("type", "any"),
        title=raw.get("title", ""),
        description=raw.get("description", ""),
        example=raw.get("example"),
        required=bool(c.get("required", False)),
        unique=bool(c.get("unique", False)),
        enum=tuple(c["enum"]) if "enum" in c else None,
        pattern=c.get("pattern"),
        min_length=c.get("minLength"),
        max_length=c.get("maxLength"),
        minimum=c.get("minimum"),
        maximum=c.get("maximum"),
        references=(refs["resource"], refs["field"]) if refs else None,
        item_pattern=ext.get("itemPattern"),
        delimiter=raw.get("delimiter", ";"),
        script=ext.get("script"),
        planned=bool(ext.get("planned", False)),
        true_values=tuple(raw.get("trueValues", ["true"])),
        false_values=tuple(raw.get("falseValues", ["false"])),
    )


def as_list(value) -> list:
    """Table Schema lets a key's `fields` be one name or a list of names."""
    return [value] if isinstance(value, str) else list(value or [])


def parse_schema(name: str, raw: dict) -> TableSchema:
    fks = []
    for fk in raw.get("foreignKeys", []):
        ref = fk["reference"]
        fks.append(ForeignKey(as_list(fk["fields"])[0], ref.get("resource") or name, as_list(ref["fields"])[0]))
    return TableSchema(
        name=name,
        title=raw.get("title", name),
        description=raw.get("description", ""),
        fields=tuple(parse_field(f) for f in raw["fields"]),
        primary_key=tuple(as_list(raw.get("primaryKey"))),
        foreign_keys=tuple(fks),
        rules=tuple(raw.get("sifc", {}).get("rules", [])),
        raw=raw,
    )


def read_schema(name: str, path: Path) -> TableSchema:
    return parse_schema(name, json.loads(Path(path).read_text(encoding="utf-8")))
