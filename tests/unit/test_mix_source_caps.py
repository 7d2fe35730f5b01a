"""A source's token budget and maximum share (synthetic text) cut its seeded document list before the
budget plan, and the release gate bounds the achieved share by the same maximum."""

from __future__ import annotations

from goldpan.mix.stage import _apply_source_caps
from goldpan.recipe import MixSection, MixSource
from quality_checks.gate import metric_bounds


def _mix(**synthetic) -> MixSection:
    return MixSection(languages=["en"], sources=[MixSource(name="web"), MixSource(name="syn", kind="synthetic",
                                                                                 **synthetic)])


def test_max_share_caps_the_source_against_the_others():
    groups = {"web": [(100, 1)] * 8, "syn": [(50, 1)] * 10}  # 800 web tokens, 500 synthetic
    capped = _apply_source_caps(groups, _mix(max_share=0.2))
    # 0.2 of the mix: at most 800 * 0.2 / 0.8 = 200 synthetic tokens -> 4 documents of 50
    assert capped == {"syn": (10, 200)} and len(groups["syn"]) == 4 and len(groups["web"]) == 8


def test_max_tokens_and_nothing_fitting():
    groups = {"web": [(100, 1)] * 2, "syn": [(120, 1), (10, 1)]}
    capped = _apply_source_caps(groups, _mix(max_tokens=100))
    assert capped == {"syn": (2, 100)} and "syn" not in groups  # the first document is over: none taken


def test_gate_bounds_the_share_by_the_maximum():
    from pathlib import Path

    import yaml

    from goldpan.recipe_loader import parse_recipe

    data = yaml.safe_load(Path("recipes/demo-synth.yaml").read_text(encoding="utf-8"))
    recipe = parse_recipe(data)
    stats = {"contamination_hits": 0, "share_by_source": {"synthetic": 0.31, "sample-web": 0.69}}
    values, bounds = metric_bounds(recipe, stats, {})
    assert values["max_share_source_synthetic"] == 0.31 and bounds["max_share_source_synthetic"] == (0.0, 0.2)
