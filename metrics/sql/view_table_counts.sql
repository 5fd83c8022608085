-- Row counts of the main tables, for the data-management page.
SELECT '市区町村' AS item, count(*) AS rows FROM municipalities
UNION ALL SELECT '人口のある市区町村', count(*) FROM municipalities WHERE population IS NOT NULL
UNION ALL SELECT '指標（カタログ）', count(*) FROM indicators
UNION ALL SELECT '指標値', count(*) FROM indicator_values
UNION ALL SELECT '境界のある市区町村', count(*) FROM boundaries WHERE geojson_simplified IS NOT NULL
UNION ALL SELECT 'アセスメントの回', count(*) FROM survey_rounds
UNION ALL SELECT 'アセスメント回答', count(*) FROM survey_answers
UNION ALL SELECT '点数済みシート（段階別）', count(*) FROM survey_stage_scores
UNION ALL SELECT '対応付けできなかった名前', count(*) FROM unresolved_names
