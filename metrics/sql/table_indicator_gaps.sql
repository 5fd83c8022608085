-- Gaps of one snapshot from the indicator_gaps table with the catalog's text, in the columns and
-- order metrics.gaps.gaps returns (as_of = the value's own date).
-- Parameters: $codes (NULL = all), $as_of (NULL = the newest snapshot; else the newest on or before
-- it), $unknown_as_of (true: the snapshot of 調査時点 不明), $indicator_ids (NULL = all).
WITH chosen_snapshot AS (
    SELECT CASE WHEN NOT $unknown_as_of THEN max(as_of) END AS as_of
    FROM indicator_gaps
    WHERE $unknown_as_of OR $as_of IS NULL OR as_of <= CAST($as_of AS DATE)
)
SELECT
    g.code, g.indicator_id, i.title, i.short_title, i.unit, i.kind, i.polarity, i.pillar,
    g.value, g.value_as_of AS as_of, g.target, g.gap_target, g.peer_group, g.peer_median, g.n_peers, g.gap_peer,
    g.pref_value, g.pref_basis, g.gap_pref, g.national_median, g.n_national, g.gap_national
FROM indicator_gaps AS g
JOIN chosen_snapshot AS s ON g.as_of IS NOT DISTINCT FROM s.as_of
JOIN indicators AS i ON i.id = g.indicator_id
WHERE ($codes IS NULL OR g.code IN (SELECT unnest($codes)))
  AND ($indicator_ids IS NULL OR list_contains($indicator_ids, g.indicator_id))
ORDER BY g.code, g.indicator_id
