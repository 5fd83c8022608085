-- How many municipalities returned a sheet in each survey round (0 for a round without any),
-- in the order of rounds.sql.
WITH returned_sheets AS (
    SELECT round_id, code FROM survey_answers
    UNION
    SELECT round_id, code FROM survey_stage_scores
)
SELECT r.round_id, count(DISTINCT s.code) AS municipalities
FROM survey_rounds AS r
LEFT JOIN returned_sheets AS s USING (round_id)
GROUP BY r.round_id, r.held_on
ORDER BY r.held_on NULLS LAST, r.round_id
