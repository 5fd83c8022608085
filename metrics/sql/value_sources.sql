-- The sources that indicator values came from, with credit, for an export's notes (their 調査時点 and 取得日:
-- metrics.dates.dates_for by source id).
SELECT s.id AS source, s.title, s.credit, bool_or(v.synthetic) AS synthetic
FROM sources AS s
JOIN indicator_values AS v ON v.source = s.id
GROUP BY s.id, s.title, s.credit
ORDER BY s.title
