"""The lowest layer: where the data lives and how it is read, shared by ``loaders`` (which write the
DuckDB file) and ``metrics`` (which query it).

- ``store.paths``: the one data-directory setting and the database files in it;
- ``store.connection``: opening a database file read-only for the app;
- ``store/schema.sql``: the tables every build creates (documented in data/SCHEMA.md);
- ``store.questionnaire``: the one reader of the assessment questionnaire's definition;
- ``store.dates``: 調査時点 and 取得日 as the UI writes them;
- ``store.writer`` / ``store.safety``: the one writer of every exported CSV and spreadsheet.

Nothing here imports another package of the project (tests/test_layers.py).
"""
