"""Audit: takedown requests and the lineage questions asked of a lake after the fact."""
