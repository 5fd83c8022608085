-- The first and newest as-of dates of the デジタル庁 indicator values (the default snapshots to compare).
SELECT min(as_of) AS first_as_of, max(as_of) AS newest_as_of
FROM indicator_values
WHERE source LIKE 'digital_agency%'
