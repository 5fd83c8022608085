-- Gaps of each selected municipality's indicator values to four references: the catalog target,
-- its peer group's median, its prefecture, and the national median of all municipalities.
-- Every gap is signed by polarity: positive = better than the reference (NULL for neutral indicators).
-- Parameters: $codes, $indicator_ids (NULL = every non-component indicator), $peer ('pop_band',
-- 'type', 'prefecture', 'region', 'similar'), $region_set, $as_of (a snapshot's 調査時点; NULL = the
-- newest), $unknown_as_of (true: the snapshot of 調査時点 不明); the values are those of the snapshot's
-- release per source and indicator (snapshot_releases).
-- Input relation: similar_pairs (code, peer_code), read when $peer = 'similar'.
-- Municipalities and indicators are joined, grouped and sorted by their ordinal numbers: m_no in
-- code order, i_no in id order over the whole catalog. The result names the indicator by i_no only;
-- metrics/gaps.py adds its id and text from indicator_attributes.sql (row i_no), because sorting
-- and handing over the ~10⁵-row grid with six text columns was most of the query's cost.
WITH gap_indicators AS (
    SELECT
        id AS indicator_id, target,
        CASE polarity WHEN 'higher_is_better' THEN 1 WHEN 'lower_is_better' THEN -1 END AS direction,
        i_no
    FROM (SELECT *, CAST(row_number() OVER (ORDER BY id) AS INTEGER) AS i_no FROM indicators)
    WHERE NOT component
      AND kind <> 'category'
      AND level IN ('municipality', 'both')
      AND ($indicator_ids IS NULL OR list_contains($indicator_ids, id))
),
snapshot_releases AS (
    -- include: snapshot_releases
),
newest_values AS (
    -- one value per code × indicator, from the snapshot's release (a real value before a demo one)
    SELECT
        v.code,
        i.i_no,
        arg_max_null(v.value, r.release_rank * 2 + CAST(NOT v.synthetic AS INTEGER)) AS value,
        max(v.as_of) AS as_of
    FROM indicator_values AS v
    JOIN snapshot_releases AS r
        ON r.source = v.source AND r.indicator_id = v.indicator_id AND r.as_of IS NOT DISTINCT FROM v.as_of
    JOIN gap_indicators AS i ON i.indicator_id = v.indicator_id
    GROUP BY v.code, i.i_no
),
municipal_peer_groups AS (
    -- include: peer_groups
),
peer_groups AS (
    SELECT code, CAST(row_number() OVER (ORDER BY code) AS INTEGER) AS m_no, pref_code, peer_group
    FROM municipal_peer_groups
),
municipal_values AS (
    SELECT g.m_no, v.i_no, v.value, v.as_of, g.pref_code, g.peer_group
    FROM newest_values AS v
    JOIN peer_groups AS g USING (code)
),
national_medians AS (
    SELECT i_no, median(value) AS national_median, count(value) AS n_national
    FROM municipal_values
    GROUP BY i_no
),
group_medians AS (
    SELECT i_no, peer_group, median(value) AS peer_median, count(value) AS n_peers
    FROM municipal_values
    WHERE peer_group IS NOT NULL
    GROUP BY i_no, peer_group
),
similar_medians AS (
    SELECT g.m_no, v.i_no, median(v.value) AS peer_median, count(v.value) AS n_peers
    FROM similar_pairs AS p
    JOIN peer_groups AS g ON g.code = p.code
    JOIN peer_groups AS peer ON peer.code = p.peer_code
    JOIN municipal_values AS v ON v.m_no = peer.m_no
    WHERE $peer = 'similar'
    GROUP BY g.m_no, v.i_no
),
prefecture_own_values AS (
    SELECT p.pref_code, v.i_no, v.value
    FROM newest_values AS v
    JOIN prefectures AS p ON p.code = v.code
    WHERE v.value IS NOT NULL
),
prefecture_municipal_medians AS (
    SELECT pref_code, i_no, median(value) AS value
    FROM municipal_values
    GROUP BY pref_code, i_no
),
selected_values AS (
    SELECT
        c.code,
        g.m_no,
        g.pref_code,
        g.peer_group,
        i.*,
        v.value,
        v.as_of
    FROM (SELECT unnest($codes) AS code) AS c
    JOIN peer_groups AS g USING (code)
    CROSS JOIN gap_indicators AS i
    LEFT JOIN municipal_values AS v ON v.m_no = g.m_no AND v.i_no = i.i_no
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
        ON $peer <> 'similar' AND gm.i_no = s.i_no AND gm.peer_group = s.peer_group
    LEFT JOIN similar_medians AS sm ON sm.m_no = s.m_no AND sm.i_no = s.i_no
    LEFT JOIN prefecture_own_values AS po ON po.pref_code = s.pref_code AND po.i_no = s.i_no
    LEFT JOIN prefecture_municipal_medians AS pm ON pm.pref_code = s.pref_code AND pm.i_no = s.i_no
    LEFT JOIN national_medians AS n ON n.i_no = s.i_no
)
SELECT
    code,
    i_no,
    value,
    as_of,
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
ORDER BY m_no, i_no
