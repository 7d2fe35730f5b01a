"""Token budgets: shares met, upsampling bounded by max_epochs, infeasible targets refused, seeds."""

from __future__ import annotations

import pytest

from goldpan.mix.budget import ALL, MixInfeasible, allocate
from goldpan.recipe import MixSection, RecipeError
from goldpan.recipe_loader import parse_recipe


def test_shares_are_met_with_the_derived_total():
    groups = {"web": [(100, 1)] * 30, "books": [(200, 1)] * 5}  # 3000 and 1000 tokens
    plan, rep = allocate(groups, {"web": 0.5, "books": 0.5}, None)
    # books (1000 tokens) binds: total 2000, web gets 1000 of its 3000
    assert plan.total_target == 2000 and plan.total_derived
    by = {g.group: g for g in plan.groups}
    assert by["books"].achieved_tokens == 1000 and by["web"].achieved_tokens == 1000
    assert sum(rep["web"]) == 10 and all(r == 1 for r in rep["books"])
    assert plan.feasible and abs(by["web"].achieved_share - 0.5) < 1e-9


def test_upsampling_repeats_documents_up_to_max_epochs():
    groups = {"web": [(100, 1)] * 30, "books": [(100, 3)] * 5}  # books: 500 tokens, 1500 at 3 epochs
    plan, rep = allocate(groups, {"web": 0.5, "books": 0.5}, None)
    by = {g.group: g for g in plan.groups}
    assert by["books"].capacity_tokens == 1500 and by["books"].max_repeat == 3
    assert rep["books"] == [3] * 5 and by["books"].achieved_tokens == 1500
    assert by["web"].achieved_tokens == 1500 and sum(rep["web"]) == 15


def test_fixed_total_beyond_a_groups_capacity_is_refused_with_the_numbers():
    groups = {"web": [(100, 1)] * 30, "books": [(100, 2)] * 5}
    with pytest.raises(MixInfeasible) as exc:
        allocate(groups, {"web": 0.5, "books": 0.5}, 4000)
    plan = exc.value.plan
    assert not plan.feasible
    [problem] = plan.problems
    assert "books" in problem and "2000" in problem and "500 eligible tokens" in problem and "1000 at its max_epochs" in problem
    assert "| books |" in plan.table()


def test_target_group_without_any_eligible_document_is_refused():
    with pytest.raises(MixInfeasible, match="'books' has a target share of 0.300 but no eligible tokens"):
        allocate({"web": [(10, 1)] * 3}, {"web": 0.7, "books": 0.3}, None)


def test_total_without_targets_caps_everything_as_one_budget():
    plan, rep = allocate({"a": [(100, 1)] * 5, "b": [(100, 1)] * 5}, {}, 300)
    assert plan.budget_by == ALL and sum(rep[ALL]) == 3 and plan.achieved_total == 300


def test_no_targets_takes_every_eligible_document_once():
    plan, rep = allocate({"a": [(5, 1), (7, 1)]}, {}, None)
    assert rep == {"a": [1, 1]} and plan.achieved_total == 12 and plan.groups[0].target_share is None


def test_recipe_targets_must_sum_to_one_and_name_known_sources():
    with pytest.raises(ValueError, match="sum to 1"):
        MixSection(languages=["en"], targets={"web": 0.5})
    with pytest.raises(ValueError, match="unknown sources"):
        MixSection(languages=["en"], targets={"nope": 1.0})
    base = {"name": "r", "crawl": {"seeds": ["http://x/"], "allowed_hosts": ["x"]}}
    with pytest.raises(RecipeError, match="needs a path"):
        parse_recipe(base | {"mix": {"languages": ["en"], "sources": [{"name": "w", "kind": "jsonl"}]}})
