-- Change of each selected municipality's indicator values between two snapshots, signed by
-- polarity (positive = moved in the better direction). Neutral, category and component rows have
-- no direction and are left out.
-- Parameters: $codes, $indicator_ids (NULL = all), $base_as_of / $eval_as_of (NULL = each
-- indicator's first / newest snapshot; a value is the newest on or before the date).
WITH change_indicators AS (
    SELECT
        id AS indicator_id, title, short_title, unit, kind, polarity, pillar,
        CASE polarity WHEN 'higher_is_better' THEN 1 ELSE -1 END AS direction
    FROM indicators
    WHERE NOT component
      AND kind <> 'category'
      AND polarity <> 'neutral'
      AND level IN ('municipality', 'both')
      AND ($indicator_ids IS NULL OR list_contains($indicator_ids, id))
),
municipal_values AS (
    SELECT v.code, v.indicator_id, v.value, v.as_of, v.synthetic
    FROM indicator_values AS v
    SEMI JOIN change_indicators AS i USING (indicator_id)
    SEMI JOIN (SELECT unnest($codes) AS code) AS s USING (code)
),
snapshot_dates AS (
    SELECT
        indicator_id,
        coalesce(CAST($base_as_of AS DATE), min(as_of)) AS base_as_of,
        coalesce(CAST($eval_as_of AS DATE), max(as_of)) AS eval_as_of
    FROM municipal_values
    GROUP BY indicator_id
),
compared_indicators AS (
    SELECT i.*, d.base_as_of, d.eval_as_of
    FROM change_indicators AS i
    JOIN snapshot_dates AS d USING (indicator_id)
    WHERE d.base_as_of < d.eval_as_of
),
newest_values AS (
    -- the newest value on or before each date (a real value before a demo one on the same date),
    -- both sides in one pass: 'base' up to base_as_of, 'eval' after it up to eval_as_of. arg_max
    -- over the key days × 2 + real is row_number() = 1 of that order without sorting every snapshot
    -- (an integer key: a (date, real) row key makes the aggregate several times slower)
    SELECT
        v.code,
        v.indicator_id,
        v.as_of > c.base_as_of AS after_base,
        arg_max_null(v.value, coalesce(date_diff('day', DATE '1970-01-01', v.as_of), -1000000) * 2 + CAST(NOT v.synthetic AS INTEGER)) AS value
    FROM municipal_values AS v
    JOIN compared_indicators AS c USING (indicator_id)
    WHERE v.as_of <= c.eval_as_of
    GROUP BY v.code, v.indicator_id, after_base
)
SELECT
    s.code,
    c.indicator_id, c.title, c.short_title, c.unit, c.kind, c.polarity, c.pillar,
    c.base_as_of,
    c.eval_as_of,
    b.value AS base_value,
    e.value AS eval_value,
    c.direction * (e.value - b.value) AS change
FROM (SELECT unnest($codes) AS code) AS s
CROSS JOIN compared_indicators AS c
LEFT JOIN newest_values AS b ON b.code = s.code AND b.indicator_id = c.indicator_id AND NOT b.after_base
LEFT JOIN newest_values AS e ON e.code = s.code AND e.indicator_id = c.indicator_id AND e.after_base
ORDER BY s.code, c.indicator_id
