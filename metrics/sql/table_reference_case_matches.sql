-- Reference cases for each municipality's weakest stage from the reference_case_matches table, in
-- the columns and order metrics.cases.recommend_cases returns. Parameters: $codes (NULL = all).
SELECT code, name, round_id, CAST(weakest_stage AS BIGINT) AS weakest_stage, weakest_field, rank,
       case_id, body, pref_name, body_kind, population_text, CAST(stage AS BIGINT) AS stage, field, title,
       summary, source, section, size_ratio, reason
FROM reference_case_matches
WHERE $codes IS NULL OR code IN (SELECT unnest($codes))
ORDER BY code, rank
