-- The municipalities a filter selects, with the attributes peer groups and tables use.
-- Parameters: $pref_code ('28'), $region_set, $region, $pop_bands, $types, $codes (lists; NULL = no restriction).
WITH regions_in_set AS (
    SELECT code, region
    FROM regions
    WHERE region_set = $region_set
)
SELECT
    m.code,
    m.pref_code,
    m.pref_name,
    m.name,
    m.kana,
    m.type,
    m.population,
    m.pop_band,
    b."order" AS pop_band_order,
    m.density,
    m.lat,
    m.lng,
    r.region,
    m.synthetic AS population_synthetic
FROM municipalities AS m
LEFT JOIN pop_bands AS b ON b.label = m.pop_band
LEFT JOIN regions_in_set AS r ON r.code = m.code
WHERE ($pref_code IS NULL OR m.pref_code = $pref_code)
  AND ($region_set IS NULL OR r.region IS NOT NULL)
  AND ($region IS NULL OR r.region = $region)
  AND ($pop_bands IS NULL OR list_contains($pop_bands, m.pop_band))
  AND ($types IS NULL OR list_contains($types, m.type))
  AND ($codes IS NULL OR list_contains($codes, m.code))
ORDER BY m.code
