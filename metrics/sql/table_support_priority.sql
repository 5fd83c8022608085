-- Support priority from the support_priority table, in the columns and order
-- metrics.priority.support_priority returns: the judgement of $round_id, or (NULL) each
-- municipality's newest round with a sheet (else its row of the newest round: the official judgement).
-- Parameters: $codes (NULL = all), $round_id.
WITH round_order AS (
    SELECT round_id, row_number() OVER (ORDER BY held_on NULLS LAST, round_id) AS position
    FROM survey_rounds
),
judged AS (
    SELECT p.*, coalesce(o.position, 0) AS position
    FROM support_priority AS p
    LEFT JOIN round_order AS o USING (round_id)
    WHERE ($round_id IS NULL OR p.round_id = $round_id)
      AND ($codes IS NULL OR p.code IN (SELECT unnest($codes)))
),
chosen AS (
    SELECT *
    FROM judged
    QUALIFY row_number() OVER (PARTITION BY code ORDER BY basis IS NULL, position DESC) = 1
)
SELECT
    c.code, m.pref_name, m.name, m.pop_band,
    CASE WHEN c.basis IS NOT NULL THEN c.round_id END AS round_id,
    c.basis, c.response, c.basis_label, c.priority, CAST(c.priority_order AS BIGINT) AS priority_order,
    CAST(c.n_weak AS BIGINT) AS n_weak, c.weak_stages, c.support, c.support_ids, c.recommended, c.recommended_ids,
    c.recommended_reasons, c.recommended_stages, c.recommended_fields, c.candidates, c.candidate_ids, c.reasons,
    c.survey_priority, c.official_priority, c.official_points, c.official_reasons, c.disagree
FROM chosen AS c
JOIN municipalities AS m USING (code)
ORDER BY c.priority_order NULLS LAST, coalesce(CAST(c.n_weak AS DOUBLE), c.official_points) DESC NULLS LAST, c.code
