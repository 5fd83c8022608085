-- Assessment scores per municipality × round: stage × field cells, stage totals, field totals and
-- the overall total, each the same sum over a larger set of questions (never a mean of cell scores).
-- Rounds answered question by question come from survey_answers; rounds only available as
-- already-scored sheets (survey_stage_scores) give stage and overall totals.
-- Parameters: $codes, $round_ids (NULL = all rounds), $prescored_stages / $prescored_max_points
-- (max points per stage for sheets that state none).
-- Sheets (code × round) and questions are numbered (sheet_no, question_no) so that the
-- sheet × question grid is joined and grouped on integers, not on three text columns.
WITH scorable_questions AS (
    SELECT id AS question_id, stage, field, points, CAST(row_number() OVER (ORDER BY id) AS INTEGER) AS question_no
    FROM questions
    WHERE answer_type <> 'text'
),
answered_rounds AS (
    SELECT code, round_id, CAST(row_number() OVER () AS INTEGER) AS sheet_no
    FROM (
        SELECT DISTINCT code, round_id
        FROM survey_answers
        WHERE list_contains($codes, code)
          AND ($round_ids IS NULL OR list_contains($round_ids, round_id))
    )
),
numbered_answers AS (
    SELECT r.sheet_no, q.question_no, a.value
    FROM survey_answers AS a
    JOIN answered_rounds AS r USING (code, round_id)
    JOIN scorable_questions AS q USING (question_id)
),
question_results AS (
    -- every scorable question for every returned sheet: an unanswered question earns 0 points
    -- but stays in max_points and is counted as not answered
    SELECT
        r.sheet_no,
        q.stage,
        q.field,
        q.points,
        a.value,
        q.points * coalesce(a.value, 0) AS earned
    FROM answered_rounds AS r
    CROSS JOIN scorable_questions AS q
    LEFT JOIN numbered_answers AS a ON a.sheet_no = r.sheet_no AND a.question_no = q.question_no
),
sheet_totals AS (
    SELECT
        sheet_no,
        CASE grouping(stage, field) WHEN 0 THEN 'cell' WHEN 1 THEN 'stage' WHEN 2 THEN 'field' ELSE 'overall' END AS level,
        stage,
        field,
        -- summed as exact decimals: a parallel DOUBLE sum adds a sheet's rows in any order, so a score
        -- such as 33.5 came out as 33.4999… in one run and 33.5000… in the next (a reason said 33点 or 34点)
        CAST(sum(CAST(earned AS DECIMAL(38, 12))) AS DOUBLE) AS points,
        CAST(sum(CAST(points AS DECIMAL(38, 12))) AS DOUBLE) AS max_points,
        count(*) AS n_items,
        count(value) AS answered
    FROM question_results
    GROUP BY GROUPING SETS ((sheet_no, stage, field), (sheet_no, stage), (sheet_no, field), (sheet_no))
),
answer_scores AS (
    SELECT r.code, r.round_id, 'answers' AS basis, t.level, t.stage, t.field, t.points, t.max_points, t.n_items, t.answered
    FROM sheet_totals AS t
    JOIN answered_rounds AS r USING (sheet_no)
),
default_max_points AS (
    SELECT unnest($prescored_stages) AS stage, unnest($prescored_max_points) AS max_points
),
sheet_stages AS (
    -- a pre-scored sheet counts only where the same municipality × round has no answers
    SELECT s.code, s.round_id, s.stage, s.score AS points, coalesce(s.max_points, d.max_points) AS max_points
    FROM survey_stage_scores AS s
    LEFT JOIN default_max_points AS d ON d.stage = s.stage
    LEFT JOIN answered_rounds AS r ON r.code = s.code AND r.round_id = s.round_id
    WHERE list_contains($codes, s.code)
      AND ($round_ids IS NULL OR list_contains($round_ids, s.round_id))
      AND r.code IS NULL
),
sheet_scores AS (
    SELECT
        code,
        round_id,
        'stage_scores' AS basis,
        CASE grouping(stage) WHEN 0 THEN 'stage' ELSE 'overall' END AS level,
        stage,
        CAST(NULL AS VARCHAR) AS field,
        CAST(sum(CAST(points AS DECIMAL(38, 12))) AS DOUBLE) AS points,
        CAST(sum(CAST(max_points AS DECIMAL(38, 12))) AS DOUBLE) AS max_points,
        count(*) AS n_items,
        count(points) AS answered
    FROM sheet_stages
    GROUP BY GROUPING SETS ((code, round_id, stage), (code, round_id))
)
SELECT
    code,
    round_id,
    basis,
    level,
    stage,
    field,
    points,
    max_points,
    100 * points / nullif(max_points, 0) AS score,
    n_items,
    answered
FROM (SELECT * FROM answer_scores UNION ALL SELECT * FROM sheet_scores)
ORDER BY code, round_id, CASE level WHEN 'cell' THEN 0 WHEN 'stage' THEN 1 WHEN 'field' THEN 2 ELSE 3 END, stage, field
