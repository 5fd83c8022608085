-- When the store was built (build_info written by loaders.build).
SELECT value AS built_at FROM build_info WHERE key = 'built_at'
