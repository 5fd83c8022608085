-- Each binary/percent indicator's share (binary: % of the municipalities with 実施; percent: mean of
-- the rates) in every peer group of the $peer attribute ('pop_band' | 'type' | 'prefecture' |
-- 'region' of $region_set) and in the nation, over municipalities with a value (newest on or before
-- $as_of). One row per (scope, peer_group, indicator_id); the nation's rows have scope 'national'
-- and no peer_group. Municipalities without the attribute belong to no peer group.
-- Parameters: $peer, $region_set, $as_of.
WITH newest_values AS (
    SELECT v.code, v.indicator_id, v.value
    FROM indicator_values AS v
    JOIN indicators AS i ON i.id = v.indicator_id
    WHERE i.kind IN ('binary', 'percent')
      AND NOT i.component
      AND i.level IN ('municipality', 'both')
      -- a value of unknown 調査時点 belongs to every snapshot from its release's on (it ranks last: NULLS LAST)
      AND ($as_of IS NULL OR v.as_of <= CAST($as_of AS DATE)
           OR (v.as_of IS NULL AND v.release_id IN (SELECT release_id FROM releases WHERE as_of <= CAST($as_of AS DATE))))
    QUALIFY row_number() OVER (PARTITION BY v.code, v.indicator_id ORDER BY v.as_of DESC, v.synthetic) = 1
),
peer_groups AS (
    -- include: peer_groups
),
grouped_values AS (
    SELECT v.indicator_id, v.value, g.peer_group
    FROM newest_values AS v
    JOIN peer_groups AS g USING (code)
)
SELECT
    CASE WHEN grouping(peer_group) = 1 THEN 'national' ELSE 'peer' END AS scope,
    peer_group,
    g.indicator_id,
    avg(g.value) * CASE WHEN any_value(i.kind) = 'binary' THEN 100 ELSE 1 END AS share,
    count(g.value) AS n
FROM grouped_values AS g
JOIN indicators AS i ON i.id = g.indicator_id
GROUP BY GROUPING SETS ((peer_group, g.indicator_id), (g.indicator_id))
HAVING grouping(peer_group) = 1 OR peer_group IS NOT NULL
