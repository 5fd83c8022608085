-- Every source with what the store holds from it: indicator values, boundaries, the as-of range
-- and whether any of it is demo data; for the credits and the data-management page.
WITH value_rows AS (
    SELECT source, count(*) AS rows, min(as_of) AS first_as_of, max(as_of) AS newest_as_of,
           bool_or(synthetic) AS synthetic
    FROM indicator_values
    GROUP BY source
),
boundary_rows AS (
    SELECT source, count(*) AS rows, max(as_of) AS newest_as_of
    FROM boundaries
    GROUP BY source
)
SELECT
    s.id AS source,
    s.title,
    s.publisher,
    s.licence,
    s.credit,
    s.url,
    s.as_of,
    s.as_of_note,
    coalesce(v.rows, 0) + coalesce(b.rows, 0) AS rows,
    coalesce(v.newest_as_of, b.newest_as_of) AS newest_as_of,
    v.first_as_of,
    coalesce(v.synthetic, false) AS synthetic,
    (v.rows IS NOT NULL OR b.rows IS NOT NULL) AS loaded
FROM sources AS s
LEFT JOIN value_rows AS v ON v.source = s.id
LEFT JOIN boundary_rows AS b ON b.source = s.id
ORDER BY loaded DESC, s.id
