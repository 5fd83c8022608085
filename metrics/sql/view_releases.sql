-- Every loaded release, newest 調査時点 first (不明 last): its label, source title, file, where its 調査時点
-- and its 取得日 came from, and its sha256; for the data-management page.
SELECT rel.label, s.title AS source_title, rel.file, rel.as_of, rel.as_of_origin, rel.retrieved_on,
       rel.retrieved_on_origin, rel.synthetic, rel.sha256
FROM releases AS rel
LEFT JOIN sources AS s ON s.id = rel.source
ORDER BY rel.as_of DESC NULLS LAST, s.title, rel.file
