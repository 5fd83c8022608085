-- Every composite member indicator for every selected municipality, normalised to 0–1.
-- Members: デジタル庁 indicators (source digital_agency_*), level municipality/both, weight > 0,
-- not a numerator/denominator component, in one of the pillars, with a direction (not neutral).
-- Parameters: $codes, $pillars, $as_of (NULL = newest; else the newest value on or before it),
-- $unknown_as_of (true: only the values whose 調査時点 is 不明). A value of unknown date counts as the
-- oldest: the newest is a dated value where one exists.
WITH member_indicators AS (
    SELECT id AS indicator_id, title, short_title, kind, polarity, pillar, weight, target
    FROM indicators
    WHERE source LIKE 'digital_agency%'
      AND level IN ('municipality', 'both')
      AND weight > 0
      AND NOT component
      AND polarity <> 'neutral'
      AND list_contains($pillars, pillar)
      AND (kind IN ('binary', 'percent') OR (kind IN ('count', 'number') AND target > 0))
),
selected AS (
    SELECT unnest($codes) AS code
),
newest_values AS (
    -- one value per municipality × member: the newest snapshot (a real value before a demo one:
    -- the largest days × 2 + real; a value of unknown 調査時点 (NULL as_of) ranks below every dated one); a NULL
    -- value there stays missing, an older snapshot is not used to fill it
    SELECT
        v.code,
        v.indicator_id,
        arg_max_null(v.value, coalesce(date_diff('day', DATE '1970-01-01', v.as_of), -1000000) * 2 + CAST(NOT v.synthetic AS INTEGER)) AS value,
        max(v.as_of) AS as_of,
        arg_max_null(v.synthetic, coalesce(date_diff('day', DATE '1970-01-01', v.as_of), -1000000) * 2 + CAST(NOT v.synthetic AS INTEGER)) AS synthetic
    FROM indicator_values AS v
    SEMI JOIN member_indicators AS i USING (indicator_id)
    SEMI JOIN selected AS s USING (code)
    WHERE CASE WHEN $unknown_as_of THEN v.as_of IS NULL ELSE $as_of IS NULL OR v.as_of <= CAST($as_of AS DATE) END
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
