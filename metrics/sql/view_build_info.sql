-- Settings of the build (build_info: built_at, built_by, demo, complete, support_menus) as key/value rows.
SELECT key, value
FROM build_info
ORDER BY key
