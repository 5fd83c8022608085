-- The sources that indicator values came from, with credit and as-of date, for an export's notes.
SELECT s.title, s.credit, s.as_of, bool_or(v.synthetic) AS synthetic
FROM sources AS s
JOIN indicator_values AS v ON v.source = s.id
GROUP BY s.title, s.credit, s.as_of
ORDER BY s.title
