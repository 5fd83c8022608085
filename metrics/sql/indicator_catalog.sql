-- The indicator catalog with the source's credit line and how many municipalities have a value.
WITH municipal_counts AS (
    SELECT v.indicator_id, count(DISTINCT v.code) FILTER (WHERE v.value IS NOT NULL) AS municipalities,
           bool_or(v.synthetic) AS synthetic
    FROM indicator_values AS v
    JOIN municipalities AS m USING (code)
    GROUP BY v.indicator_id
)
SELECT
    i.id AS indicator_id, i.title, i.short_title, i.unit, i.kind, i.pillar, i.category, i.polarity,
    i.weight, i.target, i.level, i.component, i.description, i.source, s.title AS source_title,
    s.credit, s.licence, i.as_of, coalesce(c.municipalities, 0) AS municipalities,
    coalesce(c.synthetic, false) AS synthetic
FROM indicators AS i
LEFT JOIN sources AS s ON s.id = i.source
LEFT JOIN municipal_counts AS c ON c.indicator_id = i.id
ORDER BY i.source, i.id
