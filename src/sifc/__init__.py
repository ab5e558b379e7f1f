"""shanghai-ifc: the Shanghai International Financial Center data package.

    import sifc
    measures = sifc.load("measures")     # validated, typed pandas DataFrame
    tables = sifc.load_all()             # dict of all tables

Loading never imports great_expectations. Names are imported on first use,
so `sifc validate` can start its GX worker before pandas is loaded.
"""
from importlib import import_module

__version__ = "1.1.0"
__all__ = ["load", "load_all", "tables", "read_csv_args", "ValidationError", "PackageError", "views", "schemas", "__version__"]
_LAZY = {"load": ".loader", "load_all": ".loader", "tables": ".loader", "read_csv_args": ".loader", "ValidationError": ".loader",
         "PackageError": ".files.package", "views": ".views", "schemas": ".schemas"}


def __getattr__(name):
    if name in _LAZY:
        module = import_module(_LAZY[name], __name__)
        value = module if name in ("views", "schemas") else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sifc' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
