-- The one definition of a municipality's peer group for $peer ('pop_band' | 'type' | 'prefecture' |
-- 'region' of $region_set): code, pref_code, peer_group (NULL: in no group). Included by gaps.sql,
-- view_peer_group_shares.sql and view_peer_shares.sql (a CTE body).
SELECT
    m.code,
    m.pref_code,
    CASE $peer
        WHEN 'pop_band' THEN m.pop_band
        WHEN 'type' THEN m.type
        WHEN 'prefecture' THEN m.pref_code
        WHEN 'region' THEN r.region
    END AS peer_group
FROM municipalities AS m
LEFT JOIN regions AS r ON r.code = m.code AND r.region_set = $region_set
