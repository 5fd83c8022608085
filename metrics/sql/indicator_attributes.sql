-- The catalog's text for result tables that name indicators by number: row i_no (1-based) is the
-- indicator numbered i_no by row_number() OVER (ORDER BY id) over the whole catalog (gaps.sql).
SELECT id AS indicator_id, title, short_title, unit, kind, polarity, pillar
FROM indicators
ORDER BY id
