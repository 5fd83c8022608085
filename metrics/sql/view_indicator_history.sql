-- One municipality's デジタル庁 市区町村比較 indicators at every snapshot of the indicator_gaps table,
-- oldest first (調査時点 不明 last). Parameter: $code.
SELECT g.indicator_id, i.short_title, i.kind, i.unit, i.polarity, g.as_of, g.value
FROM indicator_gaps AS g
JOIN indicators AS i ON i.id = g.indicator_id
WHERE g.code = $code
  AND i.source = 'digital_agency_municipal'
  AND NOT i.component
ORDER BY g.indicator_id, g.as_of NULLS LAST
