"""The library's version.

Kept in the foundation layer, so that a module reads it without importing the root package (whose type-only
imports of everything would close a circle).
"""

__version__ = "0.1.0"
