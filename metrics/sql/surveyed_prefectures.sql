-- Prefectures with at least one returned assessment sheet (answers or pre-scored) in any round.
WITH returned_sheets AS (
    SELECT code FROM survey_answers
    UNION
    SELECT code FROM survey_stage_scores
)
SELECT DISTINCT m.pref_code
FROM returned_sheets AS s
JOIN municipalities AS m USING (code)
ORDER BY m.pref_code
