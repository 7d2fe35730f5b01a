"""Lineage: what each stage kept, the funnel, and one document's path through every table."""
