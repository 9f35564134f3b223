"""Checkpoint savers: the interface (base), in-memory, SQLite and PostgreSQL backends."""
