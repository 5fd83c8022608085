-- The newest value (on or before $as_of) of each of $indicator_ids for every municipality, with the
-- statistics of its population band nationwide: the share of the band's municipalities with the
-- value 1 (binary indicators) and the band median. Municipalities without a value get no row.
-- Parameters: $indicator_ids, $as_of.
WITH newest_values AS (
    SELECT code, indicator_id, value
    FROM indicator_values
    WHERE list_contains($indicator_ids, indicator_id)
      AND value IS NOT NULL
      AND ($as_of IS NULL OR as_of <= CAST($as_of AS DATE))
    QUALIFY row_number() OVER (PARTITION BY code, indicator_id ORDER BY as_of DESC, synthetic) = 1
),
values_with_band AS (
    SELECT v.code, v.indicator_id, v.value, m.pop_band, i.kind, i.short_title, i.unit
    FROM newest_values AS v
    JOIN municipalities AS m USING (code)
    JOIN indicators AS i ON i.id = v.indicator_id
)
SELECT
    code,
    indicator_id,
    kind,
    short_title,
    unit,
    value,
    pop_band,
    avg(value) OVER band AS band_mean,
    median(value) OVER band AS band_median,
    count(*) OVER band AS band_n
FROM values_with_band
WINDOW band AS (PARTITION BY indicator_id, pop_band)
ORDER BY code, indicator_id
