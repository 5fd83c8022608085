-- The rounds that hold some municipality's newest sheet (the round metrics.assessment.latest_rounds
-- keeps for it), in time order. No parameters.
WITH round_order AS (
    SELECT round_id, row_number() OVER (ORDER BY held_on NULLS LAST, round_id) AS position
    FROM survey_rounds
),
sheets AS (
    SELECT DISTINCT code, round_id FROM assessment_scores
),
newest_per_municipality AS (
    SELECT arg_max(s.round_id, o.position) AS round_id, max(o.position) AS position
    FROM sheets AS s
    JOIN round_order AS o USING (round_id)
    GROUP BY s.code
)
SELECT DISTINCT round_id, position
FROM newest_per_municipality
ORDER BY position
