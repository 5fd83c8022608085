-- The ingest log, newest first.
SELECT loaded_at, file, loader, rows, status, message, loaded_by, sha256
FROM ingest_log
ORDER BY loaded_at DESC, file
