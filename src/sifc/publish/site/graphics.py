"""Pictures drawn at build time as inline SVG (no script, no library):

- the network: events | people | institutions in three columns, a line
  for each participation (person at event) and each affiliation (person
  for institution, from the same rows), an arc from an institution to its
  parent; nodes are ordered to keep lines from crossing (each column by
  the mean position of its neighbours) and each links to its page;
- the timeline: a lane each for events (start to end), documents (issue
  date) and measures (implementation date) on a time axis with month ticks.

Every SVG has a <title> and <desc>, every node a <title>; the pages list
the same content as text beside the picture. Every value is escaped."""
from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

from .build import han_runs_in, text_value


def _text(x: float, y: float, value: str, cls: str, anchor: str = "start") -> Markup:
    """An SVG <text>, Chinese runs in <tspan lang="zh-Hans">."""
    return Markup(f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">') \
        + han_runs_in(value, "tspan") + Markup("</text>")


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def _order(nodes: list[str], neighbours: dict[str, list[float]]) -> list[str]:
    """Nodes by the mean position of their neighbours; unconnected ones last, in their given order."""
    connected = [n for n in nodes if neighbours.get(n)]
    rest = [n for n in nodes if not neighbours.get(n)]
    connected.sort(key=lambda n: (sum(neighbours[n]) / len(neighbours[n]), nodes.index(n)))
    return connected + rest


def _spread(count: int, top: float, height: float) -> list[float]:
    if count == 1:
        return [top + height / 2]
    return [top + height * i / (count - 1) for i in range(count)]


def network_svg(site, root: str) -> dict:
    """The network as inline SVG, and its nodes and edges as text."""
    t = site.t
    events = t["events"].sort_values(["start_on", "event_id"], na_position="last")
    event_ids = [text_value(v) for v in events["event_id"]]
    people_ids = [text_value(v) for v in t["people"]["person_id"]]
    inst_ids = [text_value(v) for v in t["institutions"]["institution_id"]]
    attended, affiliated = set(), set()
    for row in t["participants"].to_dict("records"):
        e, p, i = text_value(row["event_id"]), text_value(row["person_id"]), text_value(row["institution_id"])
        if e in event_ids and p in people_ids:
            attended.add((e, p))
        if p in people_ids and i in inst_ids:
            affiliated.add((p, i))
    for row in t["commitments"].to_dict("records"):  # a speaker speaks for an institution
        p, i = text_value(row.get("person_id")), text_value(row.get("institution_id"))
        if p in people_ids and i in inst_ids:
            affiliated.add((p, i))
    parents = [(text_value(r["institution_id"]), text_value(r["parent_id"]))
               for r in t["institutions"].to_dict("records") if text_value(r.get("parent_id")) in inst_ids]

    event_pos = {e: i for i, e in enumerate(event_ids)}
    people = _order(sorted(people_ids, key=lambda p: site.title("people", p)),
                    {p: [event_pos[e] for e, q in attended if q == p] for p in people_ids})
    person_pos = {p: i for i, p in enumerate(people)}
    by_parent = {}
    for child, parent in parents:
        by_parent.setdefault(child, parent)
    insts = _order(sorted(inst_ids, key=lambda i: (by_parent.get(i, i), i)),
                   {i: [person_pos[p] for p, j in affiliated if j == i] for i in inst_ids})

    row_h, top = 30, 50
    height = max(len(people), len(insts), len(event_ids), 2) * row_h
    width = 1180
    xs = {"events": 330, "people": 600, "institutions": 860}
    pos = {}
    for kind, ids in (("events", event_ids), ("people", people), ("institutions", insts)):
        for ident, y in zip(ids, _spread(len(ids), top, height - row_h)):
            pos[(kind, ident)] = (xs[kind], y)
    total_h = height + top + 20

    out = [Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h:.0f}" class="network" '
                  'role="group" aria-labelledby="network-title network-desc" focusable="false">'),
           Markup('<title id="network-title">Network of people, institutions and events</title>'),
           Markup('<desc id="network-desc">') + escape(
               f"{len(event_ids)} events (left), {len(people)} people (middle) and {len(insts)} institutions (right). "
               f"Lines join a person to each event attended ({len(attended)}) and to each institution represented "
               f"({len(affiliated)}); arcs on the right join an institution to its parent ({len(parents)}). "
               "Every node links to its page; the same connections are listed as text below the picture.")
           + Markup("</desc>"),
           Markup(f'<text x="{xs["events"]}" y="24" class="col-head" text-anchor="end">Events </text>'),
           _text(xs["events"] + 14, 24, "活动", "col-head"),
           Markup(f'<text x="{xs["people"]}" y="24" class="col-head" text-anchor="middle">People</text>'),
           _text(xs["people"] + 30, 24, "人物", "col-head"),
           Markup(f'<text x="{xs["institutions"]}" y="24" class="col-head">Institutions</text>'),
           _text(xs["institutions"] + 90, 24, "机构", "col-head"),
           Markup('<g class="edges" aria-hidden="true">')]
    for e, p in sorted(attended):
        (x1, y1), (x2, y2) = pos[("events", e)], pos[("people", p)]
        out.append(Markup(f'<path class="edge edge-attended" d="M{x1:.1f},{y1:.1f} C{(x1 + x2) / 2:.1f},{y1:.1f} '
                          f'{(x1 + x2) / 2:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>'))
    for p, i in sorted(affiliated):
        (x1, y1), (x2, y2) = pos[("people", p)], pos[("institutions", i)]
        out.append(Markup(f'<path class="edge edge-affiliated" d="M{x1:.1f},{y1:.1f} C{(x1 + x2) / 2:.1f},{y1:.1f} '
                          f'{(x1 + x2) / 2:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>'))
    for child, parent in sorted(parents):
        (x1, y1), (x2, y2) = pos[("institutions", child)], pos[("institutions", parent)]
        bulge = x1 - 40 - min(abs(y2 - y1) / 6, 60)
        out.append(Markup(f'<path class="edge edge-parent" d="M{x1:.1f},{y1:.1f} C{bulge:.1f},{y1:.1f} '
                          f'{bulge:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>'))
    out.append(Markup("</g>"))
    for kind, ids in (("events", event_ids), ("people", people), ("institutions", insts)):
        out.append(Markup(f'<g class="nodes nodes-{kind}">'))
        for ident in ids:
            x, y = pos[(kind, ident)]
            en, zh = site.label(kind, ident)
            href = site.href(kind, ident, root)
            if kind == "events":
                label, anchor, dx = _short(en, 44), "end", -12
            elif kind == "people":
                label, anchor, dx = f"{en} {zh}".strip(), "start", 10
            else:
                label, anchor, dx = _short(en, 40), "start", 10
            out.append(Markup('<a href="{}">').format(href) if href else Markup("<g>"))
            out.append(Markup("<title>{}</title>").format(f"{en} ({kind[:-1] if kind != 'people' else 'person'})"))
            out.append(Markup(f'<circle cx="{x}" cy="{y:.1f}" r="7" class="node node-{kind}"/>'))
            out.append(_text(x + dx, y + 4, label, "label", anchor))
            out.append(Markup("</a>") if href else Markup("</g>"))
        out.append(Markup("</g>"))
    out.append(Markup("</svg>"))

    def link(kind, ident):
        return {"href": site.href(kind, ident, root), "text": site.title(kind, ident)}
    listing = {
        "attended": [{"a": link("people", p), "b": link("events", e)} for e, p in sorted(attended)],
        "affiliated": [{"a": link("people", p), "b": link("institutions", i)} for p, i in sorted(affiliated)],
        "parents": [{"a": link("institutions", c), "b": link("institutions", p)} for c, p in sorted(parents)],
    }
    return {"svg": Markup("").join(out), "listing": listing}


def _date(value) -> dt.date | None:
    text = text_value(value)
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def timeline_svg(site, root: str) -> dict:
    """The timeline as inline SVG, and every item (dated or not) as text."""
    t = site.t
    items, undated = [], []
    for row in t["events"].to_dict("records"):
        ident = text_value(row["event_id"])
        start, end = _date(row.get("start_on")), _date(row.get("end_on"))
        entry = {"lane": "events", "id": ident, "start": start, "end": end or start,
                 "note": text_value(row.get("date_note"))}
        (items if start else undated).append(entry)
    for row in t["documents"].to_dict("records"):
        ident = text_value(row["document_id"])
        day = _date(row.get("issued_on"))
        entry = {"lane": "documents", "id": ident, "start": day, "end": day, "note": text_value(row.get("date_note"))}
        (items if day else undated).append(entry)
    measures_undated = 0
    for row in t["measures"].to_dict("records"):
        day = _date(row.get("implemented_on"))
        if day:
            items.append({"lane": "measures", "id": text_value(row["measure_id"]), "start": day, "end": day,
                          "note": ""})
        else:
            measures_undated += 1
    for entry in items + undated:
        entry["href"] = site.href(entry["lane"], entry["id"], root)
        entry["title"] = site.title(entry["lane"], entry["id"])
    items.sort(key=lambda e: (e["start"], e["lane"], e["id"]))

    lanes = [("events", "Events", "活动"), ("documents", "Documents", "文件"), ("measures", "Measures in force", "措施")]
    width, left, right = 1100, 150, 40
    if items:
        first = min(e["start"] for e in items)
        last = max(e["end"] for e in items)
    else:
        first = last = dt.date.today()
    first = first.replace(day=1)
    last = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    span = max((last - first).days, 1)

    def x_of(day: dt.date) -> float:
        return left + (width - left - right) * (day - first).days / span

    # each lane: labels placed on as many rows as they need not to overlap;
    # a label that would run past the right edge goes left of its mark
    layout, y = [], 10
    for lane, _, _ in lanes:
        rows_end: list[float] = []
        placed = []
        for entry in (e for e in items if e["lane"] == lane):
            x1, x2 = x_of(entry["start"]), x_of(entry["end"])
            label = _short(site.label(lane, entry["id"])[0], 46)
            w = 6.6 * len(label) + 16
            left_side = x2 + w > width - 4
            start, end = (x1 - w, x2) if left_side else (x1, x2 + w)
            row = next((i for i, used in enumerate(rows_end) if used < start), None)
            if row is None:
                rows_end.append(0)
                row = len(rows_end) - 1
            rows_end[row] = end
            placed.append((entry, row, label, left_side))
        lane_h = max(len(rows_end), 1) * 26 + 24
        layout.append((lane, y, lane_h, placed))
        y += lane_h
    axis_y = y + 10
    total_h = axis_y + 40

    out = [Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h:.0f}" class="timeline" '
                  'role="group" aria-labelledby="timeline-title timeline-desc" focusable="false">'),
           Markup('<title id="timeline-title">Timeline of events, documents and measures</title>'),
           Markup('<desc id="timeline-desc">') + escape(
               f"{len(items)} dated items from {first:%B %Y} to {last:%B %Y}, in three lanes: events (from start "
               "to end date), documents (issue date) and measures (date put into force). Items without an exact "
               "date are listed below the picture with the list of all items.") + Markup("</desc>")]
    month = first
    while month <= last:
        x = x_of(month)
        out.append(Markup(f'<line x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="{axis_y:.1f}" class="tick" aria-hidden="true"/>'))
        out.append(Markup(f'<text x="{x:.1f}" y="{axis_y + 18:.1f}" class="tick-label" text-anchor="middle">'
                          f'{month:%b %Y}</text>'))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    for (lane, en, zh), (_, y0, lane_h, placed) in zip(lanes, layout):
        out.append(Markup(f'<rect x="0" y="{y0:.1f}" width="{width}" height="{lane_h:.1f}" class="lane" aria-hidden="true"/>'))
        out.append(_text(10, y0 + 20, en, "lane-label"))
        out.append(_text(10, y0 + 38, zh, "lane-label"))
        for entry, row, label, left_side in placed:
            x1, x2 = x_of(entry["start"]), x_of(entry["end"])
            cy = y0 + 18 + row * 26
            out.append(Markup('<a href="{}">').format(entry["href"]) if entry["href"] else Markup("<g>"))
            out.append(Markup("<title>{}</title>").format(
                f"{site.label(lane, entry['id'])[0]}: {entry['start']}"
                + (f" to {entry['end']}" if entry["end"] != entry["start"] else "")))
            if x2 - x1 >= 4:
                out.append(Markup(f'<rect x="{x1:.1f}" y="{cy - 6:.1f}" width="{x2 - x1:.1f}" height="12" rx="4" '
                                  f'class="mark mark-{lane}"/>'))
            else:
                out.append(Markup(f'<circle cx="{x1:.1f}" cy="{cy:.1f}" r="6" class="mark mark-{lane}"/>'))
            out.append(_text(x1 - 9, cy + 4, label, "label", "end") if left_side
                       else _text(x2 + 9, cy + 4, label, "label"))
            out.append(Markup("</a>") if entry["href"] else Markup("</g>"))
    out.append(Markup(f'<line x1="{left}" y1="{axis_y:.1f}" x2="{width - right}" y2="{axis_y:.1f}" class="axis" '
                      'aria-hidden="true"/>'))
    out.append(Markup("</svg>"))
    return {"svg": Markup("").join(out), "items": items, "undated": undated, "measures_undated": measures_undated}
