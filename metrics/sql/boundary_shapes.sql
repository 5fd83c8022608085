-- The browser shapes (GeoJSON text, rounded and simplified) of the stored boundaries, in code order;
-- $codes limits them to those municipalities (NULL: all).
SELECT code, geojson_simplified AS shape
FROM boundaries
WHERE geojson_simplified IS NOT NULL
  AND ($codes::VARCHAR[] IS NULL OR list_contains($codes::VARCHAR[], code))
ORDER BY code
