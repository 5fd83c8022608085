-- Prefectures with their number of municipalities, for the prefecture filter.
SELECT p.pref_code, p.code, p.name, count(m.code) AS municipalities
FROM prefectures AS p
LEFT JOIN municipalities AS m ON m.pref_code = p.pref_code
GROUP BY p.pref_code, p.code, p.name
ORDER BY p.pref_code
