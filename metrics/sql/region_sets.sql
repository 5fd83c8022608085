-- Region sets and their regions with member counts, for filter menus (regions in the order of
-- their lowest member code, i.e. roughly the registry's order).
SELECT region_set, region, count(*) AS municipalities
FROM regions
GROUP BY region_set, region
ORDER BY region_set, min(code)
