"""Findings: one located problem each, merged across validators into a report."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from .safetext import escape, escape_json, markdown_cell, markdown_text

ERROR, WARNING = "error", "warning"
LAYERS = ("frictionless", "pandera", "gx")


@dataclass
class Finding:
    file: str  # path relative to the package root, e.g. data/people.csv
    line: int | None  # the line an editor shows (header = 1); None for the whole file
    column: str | None
    rule: str
    message: str
    value: str | None = None
    severity: str = ERROR
    layers: list[str] = field(default_factory=list)
    table: str | None = None

    def key(self) -> tuple:
        return (self.file, self.line, self.column, self.rule, self.value)

    def location(self) -> str:
        out = escape(self.file)
        if self.line is not None:
            out += f":{self.line}"
            if self.column:
                out += f":{escape(self.column)}"
        elif self.column:
            out += f":{escape(self.column)}"
        return out

    def text(self) -> str:
        """One line, whatever the cell or header held: every part is escaped."""
        s = f"{self.location()}: {escape(self.rule)}: {escape(self.message)}"
        if self.value is not None:
            s += f" (value: {show(self.value)})"
        if self.severity != ERROR:
            s = f"{s} [{self.severity}]"
        return s

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "rule": self.rule,
                "message": self.message, "value": self.value, "severity": self.severity,
                "layers": self.layers, "table": self.table}


def show(value: str, limit: int = 80) -> str:
    """A value as it can be printed on one line: quoted, with control,
    format and invisible characters escaped, long values cut."""
    text = value if isinstance(value, str) else str(value)
    s = escape(text)
    return repr(s[:limit] + "…" if len(s) > limit else s)


def line_sort_key(f: Finding) -> tuple:
    return (f.file, f.line if f.line is not None else 0, f.column or "", f.rule, f.value or "")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    #: layers that ran; a skipped layer is absent
    layers_run: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: which package was checked: name, version and root folder
    package: dict = field(default_factory=dict)

    def add(self, layer: str, findings) -> None:
        """Merge one layer's findings: the same problem reported by two
        layers becomes one finding that names both."""
        index = {f.key(): f for f in self.findings}
        for f in findings:
            existing = index.get(f.key())
            if existing is not None:
                if layer not in existing.layers:
                    existing.layers.append(layer)
                continue
            f.layers = [layer]
            self.findings.append(f)
            index[f.key()] = f

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=line_sort_key)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table, per layer: how many findings that layer reported."""
        out: dict[str, Counter] = {}
        for f in self.findings:
            c = out.setdefault(f.table or f.file, Counter())
            for layer in f.layers:
                c[layer] += 1
        return {t: dict(c) for t, c in sorted(out.items())}

    def summary_line(self) -> str:
        e, w = len(self.errors), len(self.warnings)
        verdict = "valid" if self.ok else "INVALID"
        return (f"{verdict}: {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)} "
                f"in {len(self.tables)} table{'s' * (len(self.tables) != 1)} (layers run: {', '.join(self.layers_run) or 'none'})")

    def heading(self) -> str:
        """The report's first line: which package, version and folder."""
        p = self.package
        if not p:
            return "sifc validate: package not identified"
        return escape(f"sifc validate: {p.get('name') or '(unnamed)'} {p.get('version') or '(no version)'} "
                      f"at {p.get('root', '?')}")

    def to_text(self) -> str:
        lines = [self.heading()] + [f.text() for f in self.sorted()]
        if self.findings:
            lines.append("")
        counts = self.counts()
        if counts:
            lines.append("findings per table and layer:")
            width = max(len(t) for t in counts)
            for table, c in counts.items():
                parts = ", ".join(f"{layer} {c.get(layer, 0)}" for layer in self.layers_run)
                lines.append(f"  {table:<{width}}  {parts}")
        lines.extend(self.notes)
        lines.append(self.summary_line())
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return escape_json(json.dumps({"valid": self.ok, "errors": len(self.errors), "warnings": len(self.warnings),
                           "package": self.package, "layers_run": self.layers_run, "tables": self.tables,
                           "counts": self.counts(), "notes": self.notes,
                           "findings": [f.as_dict() for f in self.sorted()]},
                          ensure_ascii=False, indent=2)) + "\n"

    def to_github(self) -> str:
        out = [self.heading()]
        for f in self.sorted():
            kind = "error" if f.severity == ERROR else "warning"
            props = [f"file={esc_prop(escape(f.file))}"]
            if f.line is not None:
                props.append(f"line={f.line}")
            props.append(f"title={esc_prop(escape(f.rule) + (' in ' + escape(f.column) if f.column else ''))}")
            msg = escape(f.message) + (f" (value: {show(f.value)})" if f.value is not None else "")
            out.append(f"::{kind} {','.join(props)}::{esc_data(msg)}")
        out.append(self.summary_line())
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        """The step summary: every contributed text is escaped and set in
        <code>, so no cell can add a link, image, mention or table column."""
        rows = ["### sifc validate", "", markdown_text(self.heading()), "", self.summary_line(), ""]
        if self.findings:
            rows += ["| file | line | column | rule | message | value | severity | layers |",
                     "|---|---|---|---|---|---|---|---|"]
            for f in self.sorted():
                cells = [markdown_cell(f.file), "" if f.line is None else str(f.line), markdown_cell(f.column or ""),
                         markdown_text(f.rule), markdown_text(f.message),
                         "" if f.value is None else markdown_cell(show(f.value)), f.severity, ", ".join(f.layers)]
                rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows) + "\n"


def esc_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def esc_prop(s: str) -> str:
    return esc_data(s).replace(":", "%3A").replace(",", "%2C")
