"""The shipped release recipes: the broken-gate demo differs from the demo only in its gate."""

from __future__ import annotations

from goldpan.recipe_loader import load_recipe


def test_broken_gate_recipe_equals_the_demo_except_the_language_expectation():
    demo, broken = load_recipe("recipes/demo.yaml").model_dump(), load_recipe("recipes/demo-broken-gate.yaml").model_dump()
    assert broken["name"] == "demo-broken-gate"
    assert broken["gate"]["language_shares"] == {"en": 0.8, "zh": 0.2}
    for d in (demo, broken):
        d.pop("name")
        d["gate"].pop("language_shares")
        d["gate"].pop("language_tolerance")
    assert demo == broken


def test_demo_recipe_files_exist_and_targets_name_its_sources():
    r = load_recipe("recipes/demo.yaml")
    from pathlib import Path

    assert all(Path(s.path).exists() for s in r.mix.effective_sources if s.kind != "lake")
    assert all(Path(e.path).exists() for e in r.decontam.eval_sets)
    assert set(r.mix.targets) == {s.name for s in r.mix.effective_sources}
