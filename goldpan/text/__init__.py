"""Language-aware tokenisation shared by extract (counts), filter (signals) and dedup (shingles)."""
