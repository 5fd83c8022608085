-- The most similar municipalities from the similar_municipalities table, in the columns and order
-- metrics.peers.similar_municipalities returns. Parameters: $codes (NULL = all).
SELECT code, rank, peer_code, peer_name, peer_pref_name, distance, features_used
FROM similar_municipalities
WHERE $codes IS NULL OR code IN (SELECT unnest($codes))
ORDER BY code, rank
