"""Names of the faithfulness guard's rules (goldpan.synthesize.guard), apart so the recipe can validate
`skip_guard` without importing the guard (which reads the recipe types)."""

RULES: tuple[str, ...] = ("new_numbers", "new_dates", "new_urls", "new_entities", "language_change",
                          "copy_similarity", "min_length_ratio", "max_length_ratio")
