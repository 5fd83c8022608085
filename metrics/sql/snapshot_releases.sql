-- Shared by indicator_scores.sql and gaps.sql (each includes it with `-- include: snapshot_releases`).
-- per source × indicator, the release a snapshot takes its values from: the newest on or before
-- $as_of (NULL: the newest of all), a release of unknown 調査時点 counting as the oldest (as the
-- newest for $unknown_as_of); with the 調査時点 the indicator's values carry in that release
SELECT
    r.source,
    ri.indicator_id,
    arg_max_null(ri.as_of, release_rank) AS as_of,
    max(release_rank) AS release_rank
FROM (
    SELECT *, CASE WHEN as_of IS NULL THEN CASE WHEN $unknown_as_of THEN 100000000 ELSE -100000000 END
                   ELSE date_diff('day', DATE '1970-01-01', as_of) END AS release_rank
    FROM releases
    WHERE $unknown_as_of OR $as_of IS NULL OR as_of IS NULL OR as_of <= CAST($as_of AS DATE)
) AS r
JOIN release_indicators AS ri USING (release_id)
GROUP BY r.source, ri.indicator_id
