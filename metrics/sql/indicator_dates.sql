-- The 調査時点 and 取得日 behind a set of indicators, one row per 調査時点 group (indicators.as_of_group) in
-- catalog order: the newest 調査時点 the loaded releases carry for the group's indicators, on or before
-- $as_of (NULL = 調査時点不明: no release dates them), whether that date is our inference (推定), and
-- the range of 取得日 of those releases. Parameters: $indicator_ids (NULL = all), $sources (the indicator's
-- catalog source or the source of the release carrying it, NULL = all), $as_of (NULL = newest).
WITH carried AS (
    SELECT i.as_of_group, i.rowid AS catalog_order, r.as_of, r.as_of_estimated,
           rel.retrieved_on, rel.retrieved_on_origin, rel.synthetic
    FROM release_indicators AS r
    JOIN releases AS rel ON rel.release_id = r.release_id
    JOIN indicators AS i ON i.id = r.indicator_id
    WHERE ($indicator_ids IS NULL OR list_contains($indicator_ids, r.indicator_id))
      AND ($sources IS NULL OR list_contains($sources, i.source) OR list_contains($sources, rel.source))
      AND ($as_of IS NULL OR r.as_of IS NULL OR r.as_of <= CAST($as_of AS DATE))
), newest AS (
    SELECT as_of_group, max(as_of) AS as_of FROM carried GROUP BY as_of_group
)
SELECT
    c.as_of_group,
    n.as_of,
    coalesce(bool_or(c.as_of_estimated) FILTER (WHERE c.as_of IS NOT DISTINCT FROM n.as_of), false) AS estimated,
    min(c.retrieved_on) FILTER (WHERE c.as_of IS NOT DISTINCT FROM n.as_of) AS first_retrieved_on,
    max(c.retrieved_on) FILTER (WHERE c.as_of IS NOT DISTINCT FROM n.as_of) AS last_retrieved_on,
    bool_and(c.retrieved_on_origin = 'build') FILTER (WHERE c.as_of IS NOT DISTINCT FROM n.as_of) AS retrieved_at_build,
    bool_or(c.synthetic) AS synthetic
FROM carried AS c JOIN newest AS n USING (as_of_group)
GROUP BY c.as_of_group, n.as_of
ORDER BY min(c.catalog_order)
