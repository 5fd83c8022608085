-- Names in loaded files that matched no municipality (reported by the loaders, never guessed).
SELECT file, row_no, column_ref, name, reason
FROM unresolved_names
ORDER BY file, row_no NULLS LAST, column_ref, name
