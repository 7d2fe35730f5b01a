"""Extract: bytes of a fetched page -> clean main text with language and counts."""
