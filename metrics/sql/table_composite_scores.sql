-- The composite and its pillars of one snapshot from the composite_scores table, in the columns and
-- order metrics.composite.composite returns (as_of = the snapshot's 調査時点).
-- Parameters: $codes (NULL = all), $as_of (NULL = the newest snapshot; else the newest on or before
-- it), $unknown_as_of (true: the snapshot of 調査時点 不明), $pillars.
WITH chosen_snapshot AS (
    SELECT CASE WHEN NOT $unknown_as_of THEN max(as_of) END AS as_of
    FROM composite_scores
    WHERE $unknown_as_of OR $as_of IS NULL OR as_of <= CAST($as_of AS DATE)
)
SELECT c.code, c.pillar, c.score, c.n_members, c.n_available, c.n_missing, c.n_pillars, c.n_pillars_missing, c.as_of
FROM composite_scores AS c
JOIN chosen_snapshot AS s ON c.as_of IS NOT DISTINCT FROM s.as_of
WHERE $codes IS NULL OR c.code IN (SELECT unnest($codes))
ORDER BY c.code, coalesce(list_position($pillars, c.pillar), 99)
