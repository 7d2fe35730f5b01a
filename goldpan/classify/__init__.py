"""fastText classifiers trained in the lakehouse: DCLM-style quality and DeepSeekMath-style domain mining.

Scores are signals (`doc_scores`); the keep decision is a separate cheap step (`decide.py`), so a
threshold change re-decides without re-scoring. No Dagster imports here: assets/classifiers.py wires it.
"""
