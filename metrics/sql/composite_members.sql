-- The one definition of the composite's members, included by indicator_scores.sql (its
-- member_indicators CTE) and run on its own by metrics.composite.composite_members (the menu's
-- 総合得点 entry): デジタル庁 indicators (source digital_agency_*) at municipality level, weight > 0,
-- not a numerator/denominator component, in one of $pillars, with a direction (not neutral), and
-- binary or percent, or a count/number with a target.
SELECT id AS indicator_id, title, short_title, kind, polarity, pillar, weight, target
FROM indicators
WHERE source LIKE 'digital_agency%'
  AND level IN ('municipality', 'both')
  AND weight > 0
  AND NOT component
  AND polarity <> 'neutral'
  AND list_contains($pillars, pillar)
  AND (kind IN ('binary', 'percent') OR (kind IN ('count', 'number') AND target > 0))
