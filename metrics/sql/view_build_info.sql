-- Settings of the build (build_info: built_at, built_by, demo, complete) as key/value rows.
SELECT key, value
FROM build_info
ORDER BY key
