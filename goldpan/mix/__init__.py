"""Mix: choose which filtered documents go into the corpus candidate, by recipe."""
