-- Assessment change between the default rounds from the assessment_change table, in the columns
-- and order metrics.change.assessment_change returns. Parameters: $codes (NULL = all).
SELECT code, level, CAST(stage AS BIGINT) AS stage, stage_name, field, base_round, eval_round,
       base_score, eval_score, change, trend, trend_label
FROM assessment_change
WHERE $codes IS NULL OR code IN (SELECT unnest($codes))
ORDER BY code, level, stage NULLS LAST, field NULLS LAST
