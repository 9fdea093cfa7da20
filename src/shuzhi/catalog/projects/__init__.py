"""IT projects (信息化项目) and their data gate: a project is approved and accepted only when
the data it produces is catalogued (and, once aggregation exists, aggregated).

A part of the catalogue capability with the usual file names: the gate is a catalogue rule
and reads entries through ``catalog.service``.
"""

# The public surface: the modules other packages may import.
__all__ = ["schemas", "service"]
