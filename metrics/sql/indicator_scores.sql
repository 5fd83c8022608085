-- Every composite member indicator (composite_members.sql) for every selected municipality,
-- normalised to 0–1.
-- Parameters: $codes, $pillars, $as_of (a snapshot's 調査時点; NULL = the newest), $unknown_as_of (true:
-- the snapshot of 調査時点 不明). The values are those of the snapshot's release (snapshot_releases).
WITH member_indicators AS (
    -- include: composite_members
),
selected AS (
    SELECT unnest($codes) AS code
),
snapshot_releases AS (
    -- include: snapshot_releases
),
newest_values AS (
    -- one value per municipality × member, from the snapshot's release (a real value before a demo
    -- one); a NULL there stays missing, an older release is not used to fill it
    SELECT
        v.code,
        v.indicator_id,
        arg_max_null(v.value, r.release_rank * 2 + CAST(NOT v.synthetic AS INTEGER)) AS value,
        max(v.as_of) AS as_of,
        arg_max_null(v.synthetic, r.release_rank * 2 + CAST(NOT v.synthetic AS INTEGER)) AS synthetic
    FROM indicator_values AS v
    JOIN snapshot_releases AS r
        ON r.source = v.source AND r.indicator_id = v.indicator_id AND r.as_of IS NOT DISTINCT FROM v.as_of
    SEMI JOIN member_indicators AS i ON i.indicator_id = v.indicator_id
    SEMI JOIN selected AS s ON s.code = v.code
    GROUP BY v.code, v.indicator_id
),
grid AS (
    SELECT c.code, i.*
    FROM selected AS c
    CROSS JOIN member_indicators AS i
),
normalised AS (
    SELECT
        g.code,
        g.indicator_id,
        g.title,
        g.short_title,
        g.kind,
        g.polarity,
        g.pillar,
        g.weight,
        v.value,
        v.as_of,
        v.synthetic,
        -- fixed goalposts: binary as is, percent / 100, counts against their target; clipped to 0–1
        -- (greatest/least skip NULLs, so a missing value must stay outside them)
        CASE WHEN v.value IS NOT NULL THEN greatest(0.0, least(1.0, CASE g.kind
            WHEN 'binary' THEN v.value
            WHEN 'percent' THEN v.value / 100
            ELSE v.value / g.target
        END)) END AS share
    FROM grid AS g
    LEFT JOIN newest_values AS v ON v.code = g.code AND v.indicator_id = g.indicator_id
)
SELECT
    code, indicator_id, title, short_title, kind, polarity, pillar, weight, value, as_of, synthetic,
    CASE WHEN polarity = 'lower_is_better' THEN 1 - share ELSE share END AS normalised
FROM normalised
ORDER BY code, list_position($pillars, pillar), indicator_id
