-- The DuckDB store. Documented for analysts in data/SCHEMA.md; keep both in step.
-- Codes are text: municipalities and prefectures use the 6-digit 全国地方公共団体コード with check digit.

CREATE TABLE build_info (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE sources (
    id        VARCHAR PRIMARY KEY,
    title     VARCHAR NOT NULL,
    publisher VARCHAR,
    licence   VARCHAR,
    credit    VARCHAR,
    url       VARCHAR,
    as_of     DATE,
    as_of_note VARCHAR,
    note      VARCHAR
);

CREATE TABLE prefectures (
    pref_code VARCHAR PRIMARY KEY,   -- '01' … '47'
    code      VARCHAR NOT NULL,      -- 6-digit '010006'
    name      VARCHAR NOT NULL,
    kana      VARCHAR,
    name_en   VARCHAR
);

CREATE TABLE municipalities (
    code              VARCHAR PRIMARY KEY,  -- 6-digit with check digit, e.g. '011002'
    code5             VARCHAR NOT NULL,     -- 5-digit 標準地域コード, e.g. '01100'
    pref_code         VARCHAR NOT NULL,
    pref_name         VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    kana              VARCHAR,
    type              VARCHAR NOT NULL,     -- 政令市 / 中核市 / 一般市 / 特別区 / 町 / 村
    population        BIGINT,
    population_source VARCHAR,              -- sources.id the population came from
    population_as_of  DATE,
    area_km2          DOUBLE,
    density           DOUBLE,               -- population / area_km2
    pop_band          VARCHAR,              -- 5万未満 … 100万以上 (data/pop_bands.csv)
    lat               DOUBLE,
    lng               DOUBLE,
    synthetic         BOOLEAN NOT NULL DEFAULT false  -- population is demo data
);

CREATE TABLE pop_bands (                    -- 人口規模区分 (data/pop_bands.csv)
    label          VARCHAR PRIMARY KEY,
    min_population BIGINT NOT NULL,         -- inclusive lower bound
    "order"        INTEGER NOT NULL
);

CREATE TABLE wards (                        -- 政令市の行政区, for rolling ward-level files up to the city
    code      VARCHAR PRIMARY KEY,
    code5     VARCHAR NOT NULL,
    city_code VARCHAR NOT NULL,
    name      VARCHAR NOT NULL
);

CREATE TABLE regions (                      -- 振興局/圏域 and user groups (data/regions.csv)
    code        VARCHAR NOT NULL,
    region_set  VARCHAR NOT NULL,           -- e.g. '兵庫県 県民局・センター'
    region      VARCHAR NOT NULL,
    PRIMARY KEY (code, region_set)
);

CREATE TABLE indicators (
    id          VARCHAR PRIMARY KEY,
    title       VARCHAR NOT NULL,
    short_title VARCHAR,
    unit        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,           -- binary / percent / count / number / category
    pillar      VARCHAR,                    -- 推進体制 / 人材 / デジタル技術 / 住民サービス / 基礎情報 …
    category    VARCHAR,
    source      VARCHAR NOT NULL,           -- sources.id
    as_of       DATE,                       -- newest as-of among its loaded values
    polarity    VARCHAR NOT NULL,           -- higher_is_better / lower_is_better / neutral
    weight      DOUBLE,
    target      DOUBLE,
    level       VARCHAR NOT NULL,           -- municipality / prefecture / both
    component   BOOLEAN NOT NULL DEFAULT false, -- a numerator/denominator row, not an indicator of its own
    description VARCHAR NOT NULL,
    survey      VARCHAR,                    -- 調査名: the survey the publisher took the figure from
    as_of_text  VARCHAR,                    -- the publisher's own words for the 調査時点 (quoted)
    definition_url VARCHAR,                 -- the page those words are quoted from
    as_of_group VARCHAR                     -- indicators sharing one 調査時点: 推進体制 / 業務のDX / … / 人口
);

CREATE TABLE indicator_values (
    code         VARCHAR NOT NULL,          -- municipality or prefecture 6-digit code
    indicator_id VARCHAR NOT NULL,
    value        DOUBLE,                    -- NULL = missing (raw says why); unit as in indicators.unit
    raw          VARCHAR,                   -- the cell as written in the file
    source       VARCHAR NOT NULL,          -- sources.id
    as_of        DATE,                      -- 調査時点 of the value; NULL = 調査時点「不明」
    release_id   VARCHAR NOT NULL,          -- releases.release_id of the file the row was first loaded from
    retrieved_on DATE,                      -- 取得日 of that file (download / upload); never a 調査時点
    file         VARCHAR,                   -- file name the value came from
    synthetic    BOOLEAN NOT NULL DEFAULT false
    -- key (code, indicator_id, as_of), NULL as_of equal to NULL: checked by the build (loaders/releases.py)
);

CREATE TABLE releases (                     -- one loaded release of an official indicator file (or a demo one)
    release_id   VARCHAR PRIMARY KEY,       -- from data/releases.yaml, or 'file-' + 12 hex of the sha256, or 'demo-…'
    source       VARCHAR,                   -- sources.id
    label        VARCHAR,                   -- 「2024年4月1日時点」 / 「調査時点不明（取得日 2026年11月23日）」
    as_of        DATE,                      -- newest indicator 調査時点 in the release; NULL = 不明
    retrieved_on DATE,                      -- 取得日
    retrieved_on_origin VARCHAR,            -- fetch (data/cache/manifest.json) / upload / build (date of the build)
    file         VARCHAR,                   -- file name
    sha256       VARCHAR,
    as_of_origin VARCHAR,                   -- release_list / declared / in_file / source_default / unknown
    synthetic    BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE release_indicators (           -- the 調査時点 each release carries for each indicator
    release_id   VARCHAR NOT NULL,
    indicator_id VARCHAR NOT NULL,
    as_of        DATE,                      -- NULL = 不明
    as_of_estimated BOOLEAN NOT NULL DEFAULT false  -- the date is inferred from evidence (data/releases.yaml), shown as （推定）
);

CREATE TABLE boundaries (                   -- one row per municipality after the build (see loaders/boundaries.py)
    code                VARCHAR NOT NULL,     -- municipality code (wards rolled up to their city)
    geometry            BLOB,                 -- WKB, full resolution as loaded, EPSG:4326/6668 lon/lat
    geometry_simplified BLOB,                 -- WKB, simplified for the browser
    geojson_simplified  VARCHAR,              -- GeoJSON geometry text of the simplified shape, rounded
    area_deg2           DOUBLE,
    from_wards          BOOLEAN NOT NULL DEFAULT false, -- dissolved from 政令市 ward polygons
    source              VARCHAR NOT NULL,
    file                VARCHAR,
    as_of               DATE
);

CREATE TABLE survey_rounds (
    round_id  VARCHAR PRIMARY KEY,          -- e.g. '2026-baseline'
    label     VARCHAR NOT NULL,             -- e.g. '2026年度 当初（ベースライン）'
    kind      VARCHAR,                      -- baseline / evaluation / other
    held_on   DATE,
    synthetic BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE survey_round_declarations (   -- what each survey file says about its round; merged into survey_rounds
    round_id       VARCHAR NOT NULL,
    label          VARCHAR,                 -- from a 「回の名称」 column
    reference_date DATE,                    -- 調査基準日 given in the file
    answer_date    DATE,                    -- latest answer date in the file
    file           VARCHAR NOT NULL
);

CREATE TABLE questions (                    -- the questionnaire in force (data/questionnaire.yaml)
    id          VARCHAR PRIMARY KEY,
    stage       INTEGER NOT NULL,           -- 0..3
    field       VARCHAR NOT NULL,           -- DX全般 / 情報システム / BPR / データ利活用
    text        VARCHAR NOT NULL,
    answer_type VARCHAR NOT NULL,           -- yesno / scale / choice / number / text
    choices     VARCHAR,                    -- JSON
    points      DOUBLE NOT NULL
);

CREATE TABLE survey_answers (
    code        VARCHAR NOT NULL,
    round_id    VARCHAR NOT NULL,
    question_id VARCHAR NOT NULL,
    answer      VARCHAR,                    -- as written
    value       DOUBLE,                     -- normalised 0..1 share of the question's points (NULL: unanswered/text)
    file        VARCHAR,
    synthetic   BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE survey_stage_scores (          -- already-scored sheets (municipality × STEP0..3)
    code       VARCHAR NOT NULL,
    round_id   VARCHAR NOT NULL,
    stage      INTEGER NOT NULL,
    score      DOUBLE,
    max_points DOUBLE,
    file       VARCHAR,
    synthetic  BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE unresolved_names (
    file    VARCHAR NOT NULL,
    row_no  INTEGER,
    column_ref VARCHAR,
    name    VARCHAR NOT NULL,
    reason  VARCHAR NOT NULL
);

CREATE TABLE ingest_log (
    file      VARCHAR NOT NULL,
    sha256    VARCHAR,
    loader    VARCHAR,
    rows      BIGINT,
    status    VARCHAR NOT NULL,             -- ok / warning / skipped / error
    message   VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    loaded_by VARCHAR
);

-- Metric tables: written by the build's metric step (metrics/tables.py) from the tables above, so
-- that pages, exports and analysts read the same numbers. One row per municipality × 調査時点
-- (composite_scores, indicator_gaps) or × assessment round (assessment_scores, maturity_levels,
-- support_priority). Documented in data/SCHEMA.md.

CREATE TABLE composite_scores (             -- デジタル庁指標の総合得点と4つの柱 (docs/METHODOLOGY.md)
    code              VARCHAR NOT NULL,
    as_of             DATE,                 -- 調査時点 of the snapshot (metrics.views.snapshots); NULL = 不明
    pillar            VARCHAR NOT NULL,     -- 推進体制 / 人材 / デジタル技術 / 住民サービス / 総合 (the composite)
    score             DOUBLE,               -- 0–100; NULL = missing (a pillar with < half its members, a composite with a missing pillar)
    n_members         BIGINT NOT NULL,      -- indicators of the pillar (of all pillars for 総合)
    n_available       BIGINT NOT NULL,      -- of them with a value
    n_missing         BIGINT NOT NULL,
    n_pillars         BIGINT NOT NULL,      -- 1 for a pillar, 4 for 総合
    n_pillars_missing BIGINT NOT NULL
);

CREATE TABLE indicator_gaps (               -- indicator values against target, peers (人口規模), prefecture and nation
    code            VARCHAR NOT NULL,
    as_of           DATE,                   -- 調査時点 of the snapshot; the values are the newest on or before it
    indicator_id    VARCHAR NOT NULL,
    value           DOUBLE,                 -- in indicators.unit; NULL = missing
    value_as_of     DATE,                   -- as_of of that value in indicator_values
    target          DOUBLE,
    gap_target      DOUBLE,                 -- every gap: positive = better than the reference (signed by polarity)
    peer_group      VARCHAR,                -- the municipality's 人口規模 (pop_band)
    peer_median     DOUBLE,
    n_peers         BIGINT,
    gap_peer        DOUBLE,
    pref_value      DOUBLE,
    pref_basis      VARCHAR,                -- 都道府県の値 / 県内市区町村の中央値
    gap_pref        DOUBLE,
    national_median DOUBLE,
    n_national      BIGINT,
    gap_national    DOUBLE
);

CREATE TABLE assessment_scores (            -- アセスメント得点 (4段階 × 4分野) of every returned sheet
    code       VARCHAR NOT NULL,
    round_id   VARCHAR NOT NULL,
    basis      VARCHAR NOT NULL,            -- answers (scored from survey_answers) / stage_scores (a pre-scored sheet)
    level      VARCHAR NOT NULL,            -- cell / stage / field / overall
    stage      INTEGER,                     -- 0..3 (NULL for field and overall rows)
    stage_name VARCHAR,
    field      VARCHAR,                     -- DX全般 / 情報システム / BPR / データ利活用 (NULL for stage and overall rows)
    points     DOUBLE,
    max_points DOUBLE,
    score      DOUBLE,                      -- 0–100 = 100 × points / max_points
    n_items    BIGINT,
    answered   BIGINT,
    coverage   DOUBLE                       -- answered / n_items (0–1)
);

CREATE TABLE maturity_levels (              -- 成熟度レベル 0–4 per sheet, overall (field 全体) and per field
    code           VARCHAR NOT NULL,
    round_id       VARCHAR NOT NULL,
    field          VARCHAR NOT NULL,        -- 全体 or a field of the questionnaire
    basis          VARCHAR NOT NULL,
    level          INTEGER NOT NULL,        -- consecutive stages from STEP0 whose score reaches its threshold
    label          VARCHAR NOT NULL,        -- レベル2（STEP1 … まで到達）
    next_stage     INTEGER,                 -- first stage not reached (NULL at level 4)
    next_gap       DOUBLE,                  -- threshold − score of that stage
    missing_stages INTEGER NOT NULL
);

CREATE TABLE support_priority (             -- 支援優先度 and recommended support (data/priority_rules.yaml, support menus)
    code            VARCHAR NOT NULL,
    round_id        VARCHAR,                -- the assessment round judged (NULL when no round is loaded)
    as_of           DATE,                   -- 調査時点 of the デジタル庁 values behind indicator-based reasons
    basis           VARCHAR,                -- answers / stage_scores (the sheet judged); NULL = no sheet in the round
    response        VARCHAR,                -- 回答 / 未回答 (surveyed prefecture, no sheet) / 対象外 (prefecture not surveyed)
    basis_label     VARCHAR,                -- アセスメント調査による判定 / 公開データによる判定 / '' (判定不可)
    priority        VARCHAR NOT NULL,       -- 高 / 中 / 低 / 判定不可 (the survey's where a sheet exists, else the official one)
    priority_order  INTEGER,                -- 1 = 高
    n_weak          INTEGER,
    weak_stages     VARCHAR,
    support         VARCHAR,                -- 宮城-style 支援内容
    support_ids     VARCHAR,
    recommended     VARCHAR,                -- at most three items, best first, '、'-joined (national + own prefecture's menu)
    recommended_ids VARCHAR,
    recommended_reasons VARCHAR,            -- one line per recommended item, '｜'-joined
    recommended_stages  VARCHAR,            -- stage of the gap each item closes, ','-joined ('' = none)
    recommended_fields  VARCHAR,
    candidates      VARCHAR,                -- every item that applies (「ほかの候補」 included), best first
    candidate_ids   VARCHAR,
    reasons         VARCHAR NOT NULL,       -- Japanese sentences
    survey_priority VARCHAR,                -- 高 / 中 / 低 / 未回答; NULL = prefecture not surveyed
    official_priority VARCHAR,              -- 「公開データによる判定」: 高 / 中 / 低 / 判定不可 (data/official_priority_rules.yaml)
    official_points DOUBLE,
    official_reasons VARCHAR,
    disagree        BOOLEAN                 -- both judgements exist and differ
);

-- Derived metric tables: written by the build's second metric step (metrics/derived_tables.py) from
-- the metric tables above, with the defaults the app uses: the change between the default pair of
-- rounds, the reference cases for each municipality's newest sheet, the 5 most similar municipalities.

CREATE TABLE assessment_change (            -- アセスメント得点の変化: the default pair of rounds (first baseline → newest)
    code        VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,           -- cell / stage / field / overall
    stage       INTEGER,
    stage_name  VARCHAR,
    field       VARCHAR,
    base_round  VARCHAR NOT NULL,
    eval_round  VARCHAR NOT NULL,
    base_score  DOUBLE,                     -- 0–100; NULL = no sheet in that round, or a score that cannot be computed
    eval_score  DOUBLE,
    change      DOUBLE,                     -- eval − base, score points
    trend       VARCHAR NOT NULL,           -- improved / stalled / regressed / not_comparable / not_answered
    trend_label VARCHAR NOT NULL            -- 改善 / 停滞 / 後退 / 比較不可 / 未回答
);

CREATE TABLE reference_case_matches (       -- 参考事例 (data/reference_cases.yaml) for a municipality's weakest stage
    code            VARCHAR NOT NULL,
    name            VARCHAR,
    round_id        VARCHAR NOT NULL,       -- the municipality's newest round with a sheet
    weakest_stage   INTEGER NOT NULL,
    weakest_field   VARCHAR,
    rank            BIGINT NOT NULL,        -- 1 = best match (same field, then nearest population)
    case_id         VARCHAR NOT NULL,
    body            VARCHAR,
    pref_name       VARCHAR,
    body_kind       VARCHAR,
    population_text VARCHAR,
    stage           INTEGER,
    field           VARCHAR,
    title           VARCHAR,
    summary         VARCHAR,
    source          VARCHAR,
    section         VARCHAR,
    size_ratio      DOUBLE,                 -- case population / municipality population
    reason          VARCHAR NOT NULL        -- why this case, in Japanese
);

CREATE TABLE similar_municipalities (       -- 類似団体: the 5 nearest by population, 総合得点 and アセスメント (z-scores)
    code           VARCHAR NOT NULL,
    rank           BIGINT NOT NULL,         -- 1 = most similar
    peer_code      VARCHAR NOT NULL,
    peer_name      VARCHAR,
    peer_pref_name VARCHAR,
    distance       DOUBLE,
    features_used  VARCHAR                  -- the measures compared, ' / '-joined
);
