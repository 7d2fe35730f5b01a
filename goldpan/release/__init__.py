"""Release: gate attempts and promotion of the corpus candidate into training_corpus."""
