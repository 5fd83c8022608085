-- The official snapshots a user can choose and compare: the 調査時点 of each loaded release of デジタル庁
-- municipal indicators (releases.as_of, the newest indicator date the release carries), oldest first, with
-- how many municipalities have values in it. A release of unknown 調査時点 is not offered as a point in time.
WITH municipal_releases AS (
    SELECT DISTINCT rel.release_id, rel.as_of, rel.synthetic
    FROM releases AS rel
    JOIN release_indicators AS ri ON ri.release_id = rel.release_id
    JOIN indicators AS i ON i.id = ri.indicator_id
    WHERE i.source LIKE 'digital_agency_municipal%' AND rel.as_of IS NOT NULL
)
SELECT r.as_of, count(DISTINCT v.code) AS municipalities, bool_or(r.synthetic) AS synthetic
FROM municipal_releases AS r
JOIN release_indicators AS ri ON ri.release_id = r.release_id
JOIN indicator_values AS v ON v.indicator_id = ri.indicator_id AND v.as_of IS NOT DISTINCT FROM ri.as_of
JOIN municipalities AS m ON m.code = v.code
GROUP BY r.as_of
ORDER BY r.as_of
