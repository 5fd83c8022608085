-- Survey rounds in time order (held_on, then id). The list alone: pages ask for it on every rerun,
-- and counting the sheets (round_returns.sql) scans every answer.
SELECT round_id, label, kind, held_on, synthetic
FROM survey_rounds
ORDER BY held_on NULLS LAST, round_id
