"""Archival Storage: the ``Storage`` protocol, its backends, replication, fixity audit and repair."""
