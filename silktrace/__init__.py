"""SilkTrace: quality-responsibility traceability for cross-border imported goods."""

__version__ = "0.1.0"
