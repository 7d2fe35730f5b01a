"""Decontamination: n-gram overlap between candidate documents and evaluation sets."""
