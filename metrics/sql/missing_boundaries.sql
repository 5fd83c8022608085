-- Municipalities without a stored polygon of any area: the maps draw them as points.
SELECT m.code, m.pref_name, m.name, m.lat, m.lng
FROM municipalities AS m
WHERE NOT EXISTS (
    SELECT 1 FROM boundaries AS b WHERE b.code = m.code AND b.geometry IS NOT NULL AND b.area_deg2 > 0
)
ORDER BY m.code
