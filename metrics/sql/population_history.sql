-- One municipality's population at each loaded 調査時点 of one series (住民基本台帳 by default), oldest
-- first, with the change from the previous 調査時点. Values of unknown 調査時点 and demo values are left out:
-- a change needs two dates. Parameters: $code, $indicator_id.
WITH dated AS (
    SELECT as_of, value AS population
    FROM indicator_values
    WHERE code = $code AND indicator_id = $indicator_id AND as_of IS NOT NULL AND value IS NOT NULL AND NOT synthetic
)
SELECT
    as_of,
    population,
    lag(as_of) OVER by_date AS previous_as_of,
    population - lag(population) OVER by_date AS change,
    100 * (population - lag(population) OVER by_date) / nullif(lag(population) OVER by_date, 0) AS change_percent
FROM dated
WINDOW by_date AS (ORDER BY as_of)
ORDER BY as_of
