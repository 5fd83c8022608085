"""Metrics of 自治体DX進捗ダッシュボード: pure functions over a DuckDB store (loaders/schema.sql).

No Streamlit, no file I/O except the committed definitions in data/ (questionnaire.yaml or
$DX_QUESTIONNAIRE, priority_rules.yaml, official_priority_rules.yaml, support_menus/*.yaml,
reference_cases.yaml). Every function takes an open connection (read-only is enough) and returns
a pandas DataFrame; SQL lives in metrics/sql/*.sql with bound parameters. Scores are 0–100;
missing values stay NULL/NaN and are never counted as zero. The method is described in docs/METHODOLOGY.md.

Selection
---------
Filter(pref_code=None, region_set=None, region=None, pop_bands=(), types=(), codes=())
    Frozen dataclass; empty fields do not restrict. pref_code is '28' (or the 6-digit '280003').
select_municipalities(con, flt=None)
    code, pref_code, pref_name, name, kana, type, population, pop_band, pop_band_order, density,
    lat, lng, region (of flt.region_set), population_synthetic.
indicator_catalog(con) / region_sets(con) / pop_band_order(con) / rounds(con)
    Menus and credits: indicator_id, title, short_title, unit, kind, pillar, polarity, target,
    source_title, credit, licence, as_of, municipalities, synthetic … / region_set, region,
    municipalities / band labels in order / round_id, label, kind, held_on, synthetic, municipalities.

Assessment (4 stages × 4 fields)
--------------------------------
assessment_scores(con, flt=None, round_ids=None, prescored_max_points=None)
    code, round_id, basis ('answers' | 'stage_scores'), level ('cell' | 'stage' | 'field' |
    'overall'), stage, stage_name, field, points, max_points, score (0–100), n_items, answered,
    coverage. Totals are sums over the larger set of questions.
score_matrix(scores, code, round_id, value='points')
    Stage × field table with 「計」 row and column (the 和歌山 sheet; field totals 14, 6, 7, 3).
maturity(scores, thresholds=None)
    code, round_id, basis, maturity (0–4), maturity_label, next_stage, next_gap, missing_stages.

National indicators (デジタル庁)
-------------------------------
indicator_scores(con, flt=None, as_of=None)
    Composite members per municipality: code, indicator_id, title, short_title, kind, polarity,
    pillar, weight, value, as_of, synthetic, normalised (0–1).
composite(con, flt=None, as_of=None)
    code, pillar (推進体制 / 人材 / デジタル技術 / 住民サービス / 総合), score (0–100), n_members,
    n_available, n_missing, n_pillars, n_pillars_missing, as_of.
composite_wide(composite_result)
    code, 総合, one column per pillar, n_available, n_missing, n_pillars_missing.
gaps(con, flt=None, indicator_ids=None, peer='pop_band', region_set=None, as_of=None, similar=None, k=5)
    code, indicator_id, title, short_title, unit, kind, polarity, pillar, value, as_of, target,
    gap_target, peer_group, peer_median, n_peers, gap_peer, pref_value, pref_basis, gap_pref,
    national_median, n_national, gap_national (positive = better than the reference).
measure_values(con, indicator_id, flt=None, as_of=None)
    code, name, pref_name, type, pop_band, pop_band_order, value, raw, kind, label.

Peers, change, support
----------------------
similar_municipalities(con, flt=None, k=5, candidates=None, round_id=None)
    code, rank, peer_code, peer_name, peer_pref_name, distance, features_used.
assessment_change(con, flt=None, base_round=None, eval_round=None, tolerance=None)
    code, level, stage, stage_name, field, base_round, eval_round, base_score, eval_score, change,
    trend ('improved' | 'stalled' | 'regressed' | 'not_comparable'), trend_label (改善/停滞/後退/比較不可).
indicator_change(con, flt=None, indicator_ids=None, base_as_of=None, eval_as_of=None)
    code, indicator_id, title, short_title, unit, kind, polarity, pillar, base_as_of, eval_as_of,
    base_value, eval_value, change (signed by polarity), trend, trend_label.
composite_change(con, flt=None, base_as_of=None, eval_as_of=None)
    code, pillar, base_as_of, eval_as_of, base_score, eval_score, change, trend, trend_label.
support_priority(con, flt=None, round_id=None, as_of=None)
    The support plan's stable entry point. Menu in force: national items + flt.pref_code's own
    (metrics.menus.support_menu). code, pref_name, name, pop_band, round_id, basis, response
    (回答/未回答/対象外), basis_label (アセスメント調査による判定 / 公開データによる判定), priority
    (高/中/低/判定不可), priority_order, n_weak, weak_stages, support (宮城-style 支援内容), support_ids,
    recommended (≤3, '、'), recommended_ids, recommended_reasons ('｜'), recommended_stages,
    recommended_fields, candidates, candidate_ids, reasons, survey_priority, official_priority,
    official_points, official_reasons, disagree.
official_priority(band_values(con, ids)) / recommendation_table(priority)
    「公開データによる判定」 alone; the recommendations one per row with same-band reference cases.
prioritise(stages, key='code')
    The same from a table of stage points (key, stage, points, max_points) without a store.
recommend_cases(con, flt=None, round_id=None, n=3)
    code, name, round_id, weakest_stage, weakest_field, rank, case_id, body, pref_name, body_kind,
    population_text, stage, field, title, summary, source, section, size_ratio, reason.
reference_cases() / match_cases(cases, stage, field=None, population=None, n=3)

Metric tables (metrics.tables; written at build time, documented in data/SCHEMA.md)
-----------------------------------------------------------------------------------
write_metric_tables(con)
    composite_scores, indicator_gaps (per 調査時点 snapshot), assessment_scores, maturity_levels,
    support_priority (per assessment round): the build's metric step; a failure fails the build.
stored_composite / stored_gaps / stored_assessment / stored_maturity / stored_priority(con, flt, …)
    The same frames as composite / gaps (人口規模 peers) / assessment_scores / maturity /
    support_priority, read from the tables.
write_derived_tables(con) (metrics.derived_tables)
    assessment_change (the default pair of rounds), reference_case_matches (each municipality's
    newest sheet), similar_municipalities (k = 5): the build's second metric step.
stored_assessment_change / stored_cases / stored_similar(con, flt)
    The same frames as assessment_change / recommend_cases / similar_municipalities with those
    defaults, read from the tables.
snapshots(con) (metrics.snapshots)
    The デジタル庁 snapshots a user can compare, oldest first, 調査時点 不明 last: as_of, key, label,
    municipalities, synthetic. composite_change and the pages compare the previous and the newest.

Tables and export
-----------------
cross_table(frame, row, column, row_order=None, column_order=None)
    Counts with 「計」 row and column; missing values under 不明. bin_values(values, edges,
    labels=None) bins counts ([e_i, e_{i+1}), HYOGO_STAFF_EDGES for the 兵庫 table).
all_metrics(con, flt=None, round_id=None, peer='pop_band', region_set=None, k=5)
    dict: summary, assessment, maturity, composite, indicators, gaps, assessment_change,
    indicator_change, priority, similar, cases. ``summary`` is one row per municipality: code,
    pref_name, name, type, pop_band, population, region, composite, pillar scores,
    composite_n_missing, round_id, assessment, coverage, maturity, maturity_label, priority,
    weak_stages, support, recommended, change, trend_label. The families the build writes as metric
    tables are read from them; metrics.summary.compute_all_metrics computes everything.
workbook_bytes(con, flt=None, round_id=None)
    The .xlsx of all_metrics (one sheet per family plus 「説明」) for a download button: Japanese
    headings, labels for rounds, stages and coded values, no ids (metrics.export.HEADINGS).

Command line: ``python -m metrics priority INPUT`` and ``python -m metrics export --db PATH --out F.xlsx``.

This package's ``__init__`` imports none of its modules: import each name from its module. An
``__init__`` that imports its submodules makes the package and each submodule wait for each other,
and two sessions importing two of them at once deadlock (tests/test_layers.py).
"""
