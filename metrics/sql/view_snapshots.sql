-- The as-of dates of the デジタル庁 municipal indicator values (the snapshots a user can choose and
-- compare), oldest first (an unknown 調査時点 last), with how many municipalities each covers.
SELECT v.as_of, count(DISTINCT v.code) AS municipalities, bool_or(v.synthetic) AS synthetic
FROM indicator_values AS v
JOIN indicators AS i ON i.id = v.indicator_id
JOIN municipalities AS m ON m.code = v.code
WHERE i.source LIKE 'digital_agency%'
GROUP BY v.as_of
ORDER BY v.as_of NULLS LAST
