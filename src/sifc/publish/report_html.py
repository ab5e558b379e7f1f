"""The HTML report a person reads: the merged findings of all three layers,
with the same verdict as the command line, in one self-contained page (no
script, no stylesheet or font from elsewhere, so it works offline and from an
uploaded CI artifact). The Great Expectations Data Docs, when rendered, are
linked as the detail view of the GX layer only.

Every value is made printable (`safetext.escape`) and then HTML-escaped."""
from __future__ import annotations

import html
from collections import Counter

from ..findings import ERROR, Report, line_sort_key
from ..safetext import escape

#: where `sifc validate --docs-dir DIR` renders the GX Data Docs, below DIR
GX_DOCS = "gx"

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem;margin:0 0 .3rem}.where{color:#555;margin:0 0 1rem;word-break:break-all}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.valid{background:#e6f4ea;border:1px solid #34a853}.invalid{background:#fce8e6;border:1px solid #d93025}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:.9em;word-break:break-all}
.status-errors{color:#b3261e;font-weight:600}.status-warnings{color:#8a5a00;font-weight:600}
.status-clean{color:#137333}.sev-error{color:#b3261e}.sev-warning{color:#8a5a00}
.notes li{margin:.2rem 0}
"""


def _h(value) -> str:
    return html.escape(escape("" if value is None else str(value)), quote=True)


def table_status(report: Report) -> dict[str, str]:
    """Per table: "errors" if any finding blocks, "warnings" if only
    warnings, "clean" otherwise: the verdict the summary line gives, by table."""
    worst: dict[str, str] = {t: "clean" for t in report.tables}
    for f in report.findings:
        key = f.table or f.file
        if f.severity == ERROR:
            worst[key] = "errors"
        elif worst.get(key) != "errors":
            worst[key] = "warnings"
    return worst


def render(report: Report, gx_docs: str | None = None) -> str:
    """The page; `gx_docs` is the relative link to the GX Data Docs, if any."""
    p = report.package
    title = f"{p.get('name', 'package')} {p.get('version', '')}".strip()
    verdict_class = "valid" if report.ok else "invalid"
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # no script may run and nothing may be fetched, whatever a cell holds
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>sifc validate: {_h(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>sifc validate: {_h(title)}</h1>",
        f'<p class="where">{_h(p.get("root", ""))}</p>',
        f'<p class="verdict {verdict_class}" id="verdict">{_h(report.summary_line())}</p>',
    ]
    status = table_status(report)
    by_table: dict[str, Counter] = {}
    for f in report.findings:
        by_table.setdefault(f.table or f.file, Counter())[f.severity] += 1
    parts += ["<h2>Tables</h2>", "<table><thead><tr><th>table</th><th>status</th><th>errors</th><th>warnings</th>"
              + "".join(f"<th>{_h(layer)}</th>" for layer in report.layers_run) + "</tr></thead><tbody>"]
    counts = report.counts()
    for name in sorted(status):
        c = by_table.get(name, Counter())
        per_layer = counts.get(name, {})
        parts.append(f'<tr data-table="{_h(name)}"><td>{_h(name)}</td>'
                     f'<td class="status-{status[name]}">{status[name]}</td><td>{c[ERROR]}</td>'
                     f"<td>{sum(c.values()) - c[ERROR]}</td>"
                     + "".join(f"<td>{per_layer.get(layer, 0)}</td>" for layer in report.layers_run) + "</tr>")
    parts.append("</tbody></table>")
    if report.findings:
        parts += ["<h2>Findings</h2>", "<table><thead><tr><th>file</th><th>line</th><th>column</th><th>rule</th>"
                  "<th>message</th><th>value</th><th>severity</th><th>layers</th></tr></thead><tbody>"]
        for f in sorted(report.findings, key=line_sort_key):
            parts.append(f'<tr class="finding sev-{_h(f.severity)}"><td><code>{_h(f.file)}</code></td>'
                         f"<td>{'' if f.line is None else f.line}</td><td><code>{_h(f.column or '')}</code></td>"
                         f"<td>{_h(f.rule)}</td><td>{_h(f.message)}</td>"
                         f"<td><code>{'' if f.value is None else _h(f.value[:500])}</code></td>"
                         f"<td>{_h(f.severity)}</td><td>{_h(', '.join(f.layers))}</td></tr>")
        parts.append("</tbody></table>")
    notes = [n for n in report.notes if "Data Docs" not in n]
    if notes:
        parts += ['<h2>Notes</h2><ul class="notes">'] + [f"<li>{_h(n)}</li>" for n in notes] + ["</ul>"]
    if gx_docs:
        parts.append(f'<p>Detail of the Great Expectations layer (every expectation and its result): '
                     f'<a href="{html.escape(gx_docs, quote=True)}">GX Data Docs</a>. They need a network '
                     "connection to display; this page does not.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
