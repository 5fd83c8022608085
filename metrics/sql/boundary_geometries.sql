-- The full stored boundaries (WKB), in code order; $codes limits them to those municipalities (NULL: all).
SELECT code, geometry AS shape
FROM boundaries
WHERE geometry IS NOT NULL
  AND ($codes::VARCHAR[] IS NULL OR list_contains($codes::VARCHAR[], code))
ORDER BY code
