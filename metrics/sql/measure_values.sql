-- One indicator's newest value (on or before $as_of) for each selected municipality, with the
-- attributes a cross-table groups by. Municipalities without a value keep a row (value NULL).
-- Parameters: $codes, $indicator_id, $as_of.
WITH newest_values AS (
    SELECT code, value, raw
    FROM indicator_values
    WHERE indicator_id = $indicator_id
      AND list_contains($codes, code)
      -- a value of unknown 調査時点 belongs to every snapshot from its release's on (it ranks last: NULLS LAST)
      AND ($as_of IS NULL OR as_of <= CAST($as_of AS DATE)
           OR (as_of IS NULL AND release_id IN (SELECT release_id FROM releases WHERE as_of <= CAST($as_of AS DATE))))
    -- (code, indicator_id, as_of) is the store's key, so only a demo value can share a date with a real one
    QUALIFY row_number() OVER (PARTITION BY code ORDER BY as_of DESC, synthetic) = 1
),
measure AS (
    SELECT kind FROM indicators WHERE id = $indicator_id
)
SELECT
    m.code,
    m.name,
    m.pref_name,
    m.type,
    m.pop_band,
    b."order" AS pop_band_order,
    v.value,
    v.raw,
    (SELECT kind FROM measure) AS kind
FROM municipalities AS m
LEFT JOIN pop_bands AS b ON b.label = m.pop_band
LEFT JOIN newest_values AS v USING (code)
WHERE list_contains($codes, m.code)
ORDER BY m.code
