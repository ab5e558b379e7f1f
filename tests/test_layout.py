"""The house stays easy to walk: the validators (`sifc.checks`) and the file
I/O (`sifc.files`) never import the user-facing loader, views or CLI, and no
two modules import each other at import time (an import circle)."""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
USER_FACING = {"sifc.loader", "sifc.views", "sifc.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """The sifc modules `path` imports (module-level statements only, or
    all of them)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [f"{target}.{a.name}" for a in node.names] + [target]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        found |= {c for c in candidates if c.startswith("sifc") and c in MODULES}
    return found - {name}


MODULES = {module_name(p) for p in SRC.rglob("*.py")}
FILES = sorted(SRC.rglob("*.py"))


def test_the_groups_exist_and_hold_their_modules():
    assert {"sifc.checks.pandera_layer", "sifc.checks.gx_layer", "sifc.checks.frictionless_layer",
            "sifc.files.csvfile", "sifc.files.package", "sifc.files.atomic",
            "sifc.publish.build", "sifc.publish.site.build", "sifc.tabletypes"} <= MODULES


def test_validators_and_file_io_never_import_the_user_facing_modules():
    offenders = {}
    for path in FILES:
        name = module_name(path)
        if name.startswith(("sifc.checks", "sifc.files", "sifc.tabletypes")):
            bad = imports(path, top_level_only=False) & USER_FACING
            if bad:
                offenders[name] = sorted(bad)
    assert not offenders, offenders


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of `graph` (module -> modules it imports), or [].
    A package importing its own submodules is not a circle."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if state.get(nxt) is None:
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = 2
        return []

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node, [])
            if found:
                return found
    return []


def test_no_import_circle_at_import_time():
    graph = {module_name(p): imports(p, top_level_only=True) for p in FILES}
    assert sum(len(v) for v in graph.values()) > 20, "the import graph is nearly empty: the parse is broken"
    circle = find_circle(graph)
    assert not circle, " -> ".join(circle)


def test_the_circle_check_finds_a_circle():
    assert find_circle({"sifc.a": {"sifc.b"}, "sifc.b": {"sifc.c"}, "sifc.c": {"sifc.a"}}) == \
        ["sifc.a", "sifc.b", "sifc.c", "sifc.a"]
    assert find_circle({"sifc.a": {"sifc.b"}, "sifc.b": set(), "sifc.checks": {"sifc.checks.x"},
                        "sifc.checks.x": {"sifc.b"}}) == []
