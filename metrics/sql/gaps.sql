-- Gaps of each selected municipality's indicator values to four references: the catalog target,
-- its peer group's median, its prefecture, and the national median of all municipalities.
-- Every gap is signed by polarity: positive = better than the reference (NULL for neutral indicators).
-- Parameters: $codes, $indicator_ids (NULL = every non-component indicator), $peer ('pop_band',
-- 'type', 'prefecture', 'region', 'similar'), $region_set, $as_of (NULL = newest).
-- Input relation: similar_pairs (code, peer_code), read when $peer = 'similar'.
WITH gap_indicators AS (
    SELECT
        id AS indicator_id, title, short_title, unit, kind, polarity, target, pillar,
        CASE polarity WHEN 'higher_is_better' THEN 1 WHEN 'lower_is_better' THEN -1 END AS direction
    FROM indicators
    WHERE NOT component
      AND kind <> 'category'
      AND level IN ('municipality', 'both')
      AND ($indicator_ids IS NULL OR list_contains($indicator_ids, id))
),
newest_values AS (
    SELECT v.code, v.indicator_id, v.value, v.as_of
    FROM indicator_values AS v
    JOIN gap_indicators AS i USING (indicator_id)
    WHERE $as_of IS NULL OR v.as_of <= CAST($as_of AS DATE)
    QUALIFY row_number() OVER (PARTITION BY v.code, v.indicator_id ORDER BY v.as_of DESC, v.synthetic) = 1
),
peer_groups AS (
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
),
municipal_values AS (
    SELECT v.code, v.indicator_id, v.value, v.as_of, g.pref_code, g.peer_group
    FROM newest_values AS v
    JOIN peer_groups AS g USING (code)
),
national_medians AS (
    SELECT indicator_id, median(value) AS national_median, count(value) AS n_national
    FROM municipal_values
    GROUP BY indicator_id
),
group_medians AS (
    SELECT indicator_id, peer_group, median(value) AS peer_median, count(value) AS n_peers
    FROM municipal_values
    WHERE peer_group IS NOT NULL
    GROUP BY indicator_id, peer_group
),
similar_medians AS (
    SELECT p.code, v.indicator_id, median(v.value) AS peer_median, count(v.value) AS n_peers
    FROM similar_pairs AS p
    JOIN municipal_values AS v ON v.code = p.peer_code
    WHERE $peer = 'similar'
    GROUP BY p.code, v.indicator_id
),
prefecture_own_values AS (
    SELECT p.pref_code, v.indicator_id, v.value
    FROM newest_values AS v
    JOIN prefectures AS p ON p.code = v.code
    WHERE v.value IS NOT NULL
),
prefecture_municipal_medians AS (
    SELECT pref_code, indicator_id, median(value) AS value
    FROM municipal_values
    GROUP BY pref_code, indicator_id
),
selected_values AS (
    SELECT
        c.code,
        g.pref_code,
        g.peer_group,
        i.*,
        v.value,
        v.as_of
    FROM (SELECT unnest($codes) AS code) AS c
    JOIN peer_groups AS g USING (code)
    CROSS JOIN gap_indicators AS i
    LEFT JOIN municipal_values AS v ON v.code = c.code AND v.indicator_id = i.indicator_id
),
indicator_references AS (
    SELECT
        s.*,
        coalesce(sm.peer_median, gm.peer_median) AS peer_median,
        coalesce(sm.n_peers, gm.n_peers, 0) AS n_peers,
        coalesce(po.value, pm.value) AS pref_value,
        CASE WHEN po.value IS NOT NULL THEN '都道府県の値' WHEN pm.value IS NOT NULL THEN '県内市区町村の中央値' END AS pref_basis,
        n.national_median,
        n.n_national
    FROM selected_values AS s
    LEFT JOIN group_medians AS gm
        ON $peer <> 'similar' AND gm.indicator_id = s.indicator_id AND gm.peer_group = s.peer_group
    LEFT JOIN similar_medians AS sm ON sm.code = s.code AND sm.indicator_id = s.indicator_id
    LEFT JOIN prefecture_own_values AS po ON po.pref_code = s.pref_code AND po.indicator_id = s.indicator_id
    LEFT JOIN prefecture_municipal_medians AS pm ON pm.pref_code = s.pref_code AND pm.indicator_id = s.indicator_id
    LEFT JOIN national_medians AS n ON n.indicator_id = s.indicator_id
)
SELECT
    code, indicator_id, title, short_title, unit, kind, polarity, pillar, value, as_of,
    target,
    direction * (value - target) AS gap_target,
    peer_group,
    peer_median,
    n_peers,
    direction * (value - peer_median) AS gap_peer,
    pref_value,
    pref_basis,
    direction * (value - pref_value) AS gap_pref,
    national_median,
    n_national,
    direction * (value - national_median) AS gap_national
FROM indicator_references
ORDER BY code, indicator_id
