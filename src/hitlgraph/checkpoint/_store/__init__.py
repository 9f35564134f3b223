"""The storage layer of the SQL checkpoint savers (SQLite and PostgreSQL).

Each saver operation is written once, in `reads`, `writes`, `gc` and `schema`, as a generator
of statements (`ops.Statement`, `ops.Batch`) that is sent each statement's rows back. What
differs between the databases (SQL text, placeholders, locking, how values and writes are laid
out in their schemas) comes from a `dialect.Dialect`: `checkpoint/sqlite/_sql.py` and
`checkpoint/postgres/_sql.py`. `shell` holds the saver methods, written once for sync and once
for async; a backend's saver supplies only the driving of an operation over its connection.
"""
