"""The synthesize stage: kept documents rewritten, turned into question-answer pairs or continued by
a language model, every output tied to its parents, model, prompt and sampling parameters, and
checked by a faithfulness guard (issue 23)."""
