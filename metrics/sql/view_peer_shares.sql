-- For one municipality: each binary/percent indicator's value next to its peer group's share and
-- the nation's, read from $group_shares (the result of view_peer_group_shares for the same $peer,
-- $region_set and $as_of, registered as the relation group_shares).
-- Parameters: $code, $peer, $region_set, $as_of.
WITH own_values AS (
    SELECT v.indicator_id, v.value
    FROM indicator_values AS v
    WHERE v.code = $code
      AND ($as_of IS NULL OR v.as_of <= CAST($as_of AS DATE)
           OR (v.as_of IS NULL AND v.release_id IN (SELECT release_id FROM releases WHERE as_of <= CAST($as_of AS DATE))))
    QUALIFY row_number() OVER (PARTITION BY v.indicator_id ORDER BY v.as_of DESC, v.synthetic) = 1
),
peer_groups AS (
    -- include: peer_groups
),
own_group AS (
    SELECT peer_group FROM peer_groups WHERE code = $code
),
own_group_shares AS (
    SELECT s.indicator_id, s.share, s.n
    FROM group_shares AS s
    JOIN own_group AS g ON g.peer_group = s.peer_group
    WHERE s.scope = 'peer'
),
national_shares AS (
    SELECT indicator_id, share, n FROM group_shares WHERE scope = 'national'
)
SELECT
    i.id AS indicator_id, i.short_title, i.title, i.kind, i.unit, i.pillar, i.polarity,
    own.value,
    ps.share AS peer_share, ps.n AS n_peers,
    ns.share AS national_share, ns.n AS n_national
FROM indicators AS i
JOIN national_shares AS ns ON ns.indicator_id = i.id
LEFT JOIN own_values AS own ON own.indicator_id = i.id
LEFT JOIN own_group_shares AS ps ON ps.indicator_id = i.id
ORDER BY i.source, i.id
