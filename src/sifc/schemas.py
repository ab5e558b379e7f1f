"""Pandera schemas per table, for validating frames you derive:

    from sifc.schemas import Measures
    Measures.validate(my_frame)

Each is built from the table's Table Schema (dtypes, required, constraints,
the table's own row rules); foreign keys need the other tables and are
checked by `sifc.load` and `sifc validate`.
"""
from __future__ import annotations

from functools import lru_cache

from .files.package import default_root, open_package
from .checks.pandera_layer import build

NAMES = {"Sources": "sources", "Themes": "themes", "Institutions": "institutions", "People": "people",
         "Events": "events", "Documents": "documents", "Participants": "participants", "Measures": "measures",
         "Commitments": "commitments", "Progress": "progress"}
__all__ = list(NAMES) + ["schema_for"]


@lru_cache(maxsize=None)
def schema_for(table: str):
    """The pandera DataFrameSchema of a table of this package."""
    return build(open_package(default_root(ours_only=True)).resource(table).schema)[0]


def __getattr__(name: str):
    if name in NAMES:
        return schema_for(NAMES[name])
    raise AttributeError(f"module 'sifc.schemas' has no attribute {name!r}")
