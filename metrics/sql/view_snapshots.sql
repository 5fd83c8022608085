-- The official snapshots a user can choose and compare: one per distinct 調査時点 (releases.as_of) of the
-- releases that carry indicators of the デジタル庁 composite (the 市区町村比較 file; the demo's invented
-- release too), oldest first (調査時点 不明 last), with how many municipalities have a value in them.
-- Parameter: $pillars (the composite's pillars).
WITH composite_releases AS (
    SELECT r.as_of AS snapshot, ri.indicator_id, ri.as_of
    FROM releases AS r
    JOIN release_indicators AS ri USING (release_id)
    JOIN indicators AS i ON i.id = ri.indicator_id
    WHERE i.source LIKE 'digital_agency%'
      AND i.weight > 0
      AND NOT i.component
      AND list_contains($pillars, i.pillar)
),
release_values AS (
    SELECT c.snapshot, v.code, v.synthetic
    FROM composite_releases AS c
    JOIN indicator_values AS v ON v.indicator_id = c.indicator_id AND v.as_of IS NOT DISTINCT FROM c.as_of
    SEMI JOIN municipalities AS m ON m.code = v.code
)
SELECT snapshot AS as_of, count(DISTINCT code) AS municipalities, bool_or(synthetic) AS synthetic
FROM release_values
GROUP BY snapshot
ORDER BY snapshot NULLS LAST
