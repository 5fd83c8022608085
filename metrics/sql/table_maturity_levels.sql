-- Maturity levels from the maturity_levels table in the columns metrics.assessment.maturity returns.
-- Parameters: $codes (NULL = all), $field (全体 = the whole sheet; NULL = every field).
SELECT code, round_id, field, basis, CAST(level AS BIGINT) AS maturity, label AS maturity_label,
       CAST(next_stage AS BIGINT) AS next_stage, next_gap, CAST(missing_stages AS BIGINT) AS missing_stages
FROM maturity_levels
WHERE ($codes IS NULL OR code IN (SELECT unnest($codes)))
  AND ($field IS NULL OR field = $field)
ORDER BY code, round_id, field
