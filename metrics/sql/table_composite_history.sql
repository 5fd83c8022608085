-- Every snapshot of the composite and its pillars (oldest first, 調査時点 不明 last).
-- Parameters: $codes (NULL = all), $pillars, $composite_label.
SELECT code, as_of, pillar, score, n_available, n_missing
FROM composite_scores
WHERE $codes IS NULL OR code IN (SELECT unnest($codes))
ORDER BY code, as_of NULLS LAST,
         CASE WHEN pillar = $composite_label THEN 0 ELSE 1 + coalesce(list_position($pillars, pillar), 99) END
