-- Survey rounds in time order (held_on, then id), with how many municipalities returned each.
WITH returned_sheets AS (
    SELECT round_id, code FROM survey_answers
    UNION
    SELECT round_id, code FROM survey_stage_scores
)
SELECT
    r.round_id,
    r.label,
    r.kind,
    r.held_on,
    r.synthetic,
    count(DISTINCT s.code) AS municipalities
FROM survey_rounds AS r
LEFT JOIN returned_sheets AS s USING (round_id)
GROUP BY ALL
ORDER BY r.held_on NULLS LAST, r.round_id
