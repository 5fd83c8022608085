-- Which prefectures each region set covers (a set may span several), for the region filter.
SELECT r.region_set, m.pref_code, count(*) AS municipalities
FROM regions AS r
JOIN municipalities AS m USING (code)
GROUP BY r.region_set, m.pref_code
ORDER BY r.region_set, m.pref_code
