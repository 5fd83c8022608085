-- For one municipality: each binary/percent indicator's value next to its peer group's share or
-- mean (binary: share 実施 in %, percent: mean of the rates) and the national one, all over
-- municipalities with a value (newest on or before $as_of). The peer group is the municipalities
-- of the same $peer attribute: 'pop_band' | 'type' | 'prefecture' | 'region' (of $region_set).
-- Parameters: $code, $peer, $region_set, $as_of.
WITH newest_values AS (
    SELECT v.code, v.indicator_id, v.value
    FROM indicator_values AS v
    JOIN indicators AS i ON i.id = v.indicator_id
    WHERE i.kind IN ('binary', 'percent')
      AND NOT i.component
      AND i.level IN ('municipality', 'both')
      AND ($as_of IS NULL OR (v.as_of <= CAST($as_of AS DATE) OR (v.as_of IS NULL AND v.release_id IN (SELECT release_id FROM releases WHERE as_of <= CAST($as_of AS DATE)))))
    QUALIFY row_number() OVER (PARTITION BY v.code, v.indicator_id ORDER BY v.as_of DESC, v.synthetic) = 1
),
target AS (
    SELECT m.code, m.pop_band, m.type, m.pref_code, r.region
    FROM municipalities AS m
    LEFT JOIN regions AS r ON r.code = m.code AND r.region_set = $region_set
    WHERE m.code = $code
),
peers AS (
    SELECT m.code
    FROM municipalities AS m
    LEFT JOIN regions AS r ON r.code = m.code AND r.region_set = $region_set
    CROSS JOIN target AS t
    WHERE CASE $peer
        WHEN 'pop_band' THEN m.pop_band = t.pop_band
        WHEN 'type' THEN m.type = t.type
        WHEN 'prefecture' THEN m.pref_code = t.pref_code
        WHEN 'region' THEN r.region = t.region
    END
),
scoped AS (
    SELECT 'peer' AS scope, code FROM peers
    UNION ALL
    SELECT 'national' AS scope, code FROM municipalities
),
stats AS (
    -- the peer group's and the nation's share in one aggregation, told apart by scope
    SELECT s.scope, v.indicator_id,
           avg(v.value) * CASE WHEN any_value(i.kind) = 'binary' THEN 100 ELSE 1 END AS share,
           count(v.value) AS n
    FROM newest_values AS v
    JOIN scoped AS s USING (code)
    JOIN indicators AS i ON i.id = v.indicator_id
    GROUP BY s.scope, v.indicator_id
)
SELECT
    i.id AS indicator_id, i.short_title, i.title, i.kind, i.unit, i.pillar, i.polarity,
    own.value,
    ps.share AS peer_share, ps.n AS n_peers,
    ns.share AS national_share, ns.n AS n_national
FROM indicators AS i
JOIN stats AS ns ON ns.indicator_id = i.id AND ns.scope = 'national'
LEFT JOIN newest_values AS own ON own.indicator_id = i.id AND own.code = $code
LEFT JOIN stats AS ps ON ps.indicator_id = i.id AND ps.scope = 'peer'
ORDER BY i.source, i.id
