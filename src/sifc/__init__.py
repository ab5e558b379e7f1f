"""shanghai-ifc: the Shanghai International Financial Center data package.

    import sifc
    measures = sifc.load("measures")     # validated, typed pandas DataFrame
    tables = sifc.load_all()             # dict of all tables

Loading never imports great_expectations.
"""
from .load import ValidationError, load, load_all, tables
from .package import PackageError

__version__ = "1.0.0"
__all__ = ["load", "load_all", "tables", "ValidationError", "PackageError", "__version__"]
