-- Assessment scores from the assessment_scores table, in the order metrics.assessment.assessment_scores returns.
-- Parameters: $codes (NULL = all), $round_ids (NULL = all).
SELECT code, round_id, basis, level, CAST(stage AS BIGINT) AS stage, stage_name, field, points, max_points, score,
       n_items, answered, coverage
FROM assessment_scores
WHERE ($codes IS NULL OR code IN (SELECT unnest($codes)))
  AND ($round_ids IS NULL OR list_contains($round_ids, round_id))
ORDER BY code, round_id, CASE level WHEN 'cell' THEN 0 WHEN 'stage' THEN 1 WHEN 'field' THEN 2 ELSE 3 END, stage, field
