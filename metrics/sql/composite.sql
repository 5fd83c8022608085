-- Pillar scores and the composite (0–100) per municipality from the normalised member indicators.
-- A pillar is the weighted mean of its available members and is missing when fewer than half of
-- its members are available; the composite is the equal-weight mean of the pillars and is missing
-- when any pillar is missing. Missing values are never counted as zero.
-- Input relation: member_scores (the result of indicator_scores.sql). Parameters: $pillars, $composite_label.
WITH pillar_scores AS (
    SELECT
        code,
        pillar,
        count(*) AS n_members,
        count(normalised) AS n_available,
        sum(weight * normalised) / nullif(sum(CASE WHEN normalised IS NOT NULL THEN weight END), 0) AS weighted_mean,
        max(as_of) AS as_of
    FROM member_scores
    GROUP BY code, pillar
),
pillar_results AS (
    SELECT
        code,
        pillar,
        CASE WHEN 2 * n_available >= n_members THEN 100 * weighted_mean END AS score,
        n_members,
        n_available,
        n_members - n_available AS n_missing,
        CAST(1 AS BIGINT) AS n_pillars,
        CAST(CASE WHEN 2 * n_available >= n_members THEN 0 ELSE 1 END AS BIGINT) AS n_pillars_missing,
        as_of
    FROM pillar_scores
),
composite_results AS (
    SELECT
        code,
        $composite_label AS pillar,
        CASE WHEN count(score) = count(*) THEN avg(score) END AS score,
        CAST(sum(n_members) AS BIGINT) AS n_members,
        CAST(sum(n_available) AS BIGINT) AS n_available,
        CAST(sum(n_missing) AS BIGINT) AS n_missing,
        count(*) AS n_pillars,
        count(*) - count(score) AS n_pillars_missing,
        max(as_of) AS as_of
    FROM pillar_results
    GROUP BY code
)
SELECT * FROM pillar_results
UNION ALL
SELECT * FROM composite_results
ORDER BY code, coalesce(list_position($pillars, pillar), 99)
