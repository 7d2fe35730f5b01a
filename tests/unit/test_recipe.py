"""Unit tests for goldpan.recipe: loading, ${VAR} expansion, strict validation, recipe ids."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from goldpan.recipe import Recipe, RecipeError, expand_vars
from goldpan.recipe_loader import load_recipe, parse_recipe

DEMO = Path(__file__).resolve().parents[2] / "recipes" / "demo.yaml"

BASE = {
    "name": "unit",
    "crawl": {"seeds": ["${SEED_URL:-http://docs.example/}"], "allowed_hosts": ["docs.example"]},
    "mix": {"languages": ["en", "zh"]},
}


def with_(path: str, value) -> dict:
    """A copy of BASE with one dotted key set."""
    data = copy.deepcopy(BASE)
    *parents, leaf = path.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    return data


def test_demo_recipe_loads_with_its_values():
    r = load_recipe(DEMO, env={})
    assert isinstance(r, Recipe)
    assert r.name == "demo"
    assert r.crawl.seeds == ["http://127.0.0.1:8765/"]  # the ${GOLDPAN_SEED_URL:-...} default
    assert r.crawl.allowed_hosts == ["127.0.0.1"]
    assert r.crawl.allow_private == ["127.0.0.1"]
    assert (r.crawl.max_depth, r.crawl.max_pages) == (4, 300)
    assert (r.extract.min_chars, r.extract.max_link_density, r.extract.max_link_density_min_chars) == (
        80,
        0.6,
        400,
    )
    assert (r.dedup.num_bands, r.dedup.rows_per_band, r.dedup.threshold) == (None, None, 0.4)  # banding from the S-curve
    assert r.filter.rules == {}
    assert r.mix.languages == ["en", "zh"]
    assert r.mix.min_lang_score == 0.5
    assert r.mix.max_docs_per_domain is None
    assert [s.name for s in r.mix.effective_sources] == ["sample-web", "curated-notes"]
    assert r.mix.targets == {"sample-web": 0.75, "curated-notes": 0.25}
    assert r.mix.source == "web"
    assert r.gate.min_docs == 5
    assert r.recipe_id.startswith("demo@") and len(r.recipe_id) == len("demo@") + 12
    assert r.recipe_id == f"demo@{r.sha1[:12]}"


def test_demo_recipe_seed_comes_from_the_environment():
    r = load_recipe(DEMO, env={"GOLDPAN_SEED_URL": "http://127.0.0.1:9001/"})
    assert r.crawl.seeds == ["http://127.0.0.1:9001/"]


def test_var_expansion_default_and_set():
    assert parse_recipe(BASE, env={}).crawl.seeds == ["http://docs.example/"]
    assert parse_recipe(BASE, env={"SEED_URL": "http://docs.example/start"}).crawl.seeds == [
        "http://docs.example/start"
    ]


def test_expand_vars_walks_nested_values_and_keeps_non_strings():
    env = {"HOST": "mirror.example", "PORT": "8080"}
    got = expand_vars(
        {"a": ["http://${HOST}:${PORT}/", "${MISSING:-fallback}", 3, None, 0.5], "b": {"c": "${HOST}"}}, env
    )
    assert got == {
        "a": ["http://mirror.example:8080/", "fallback", 3, None, 0.5],
        "b": {"c": "mirror.example"},
    }
    assert expand_vars("${EMPTY_DEFAULT:-}", {}) == ""
    assert expand_vars("no vars here $HOME {x}", {}) == "no vars here $HOME {x}"


def test_expanded_number_strings_are_validated_as_numbers():
    r = parse_recipe(with_("crawl.max_pages", "${PAGES:-42}"), env={})
    assert r.crawl.max_pages == 42


def test_default_applies_when_the_variable_is_set_but_empty():
    """`${VAR:-default}` follows the shell: the default is used when VAR is unset *or empty*."""
    assert expand_vars("${SEED_URL:-http://docs.example/}", {"SEED_URL": ""}) == "http://docs.example/"
    assert expand_vars("${SEED_URL}", {"SEED_URL": ""}) == ""  # no default: empty stays empty


def test_missing_var_without_default_is_a_recipe_error():
    data = with_("crawl.seeds", ["${NOT_SET_ANYWHERE}"])
    with pytest.raises(RecipeError, match=r"\$\{NOT_SET_ANYWHERE\}") as exc:
        parse_recipe(data, "crawl.yaml", env={})
    assert "crawl.yaml" in str(exc.value)  # RecipeError messages name the file


def test_unknown_top_level_key_names_the_field():
    with pytest.raises(RecipeError, match=r"unit\.yaml: extras: unknown key .extras.; did you mean .extract."):
        parse_recipe({**BASE, "extras": True}, "unit.yaml", env={})


def test_misspelt_nested_key_names_the_dotted_field():
    with pytest.raises(RecipeError, match=r"crawl\.max_pagez: unknown key .max_pagez.; did you mean .max_pages."):
        parse_recipe(with_("crawl.max_pagez", 10), env={})


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("crawl.max_pages", -5, "crawl.max_pages"),
        ("crawl.max_pages", 0, "crawl.max_pages"),
        ("crawl.max_depth", 51, "crawl.max_depth"),
        ("crawl.seeds", [], "crawl.seeds"),
        ("extract.max_link_density", 1.5, "extract.max_link_density"),
        ("dedup.threshold", 0, "dedup.threshold"),
        ("mix.min_lang_score", -0.1, "mix.min_lang_score"),
        ("mix.max_docs_per_domain", 0, "mix.max_docs_per_domain"),
        ("mix.languages", [], "mix.languages"),
        ("name", "has spaces!", "name"),
        ("crawl.max_pages", "lots", "crawl.max_pages"),
    ],
)
def test_bad_values_are_recipe_errors_naming_the_field(path, value, field):
    with pytest.raises(RecipeError) as exc:
        parse_recipe(with_(path, value), "unit.yaml", env={})
    assert str(exc.value).startswith("unit.yaml: ")
    assert f"{field}: " in str(exc.value)


def test_missing_required_section():
    data = {k: v for k, v in BASE.items() if k != "mix"}
    with pytest.raises(RecipeError, match=r"mix: Field required"):
        parse_recipe(data, env={})


def test_non_mapping_recipe(tmp_path):
    p = tmp_path / "list.yaml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(RecipeError, match="a recipe must be a mapping, got list"):
        load_recipe(p, env={})


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(bad)


def test_recipe_is_frozen():
    r = parse_recipe(BASE, env={})
    with pytest.raises(ValidationError, match="frozen"):
        r.mix.min_lang_score = 0.9  # type: ignore[misc]


def test_recipe_id_changes_when_a_threshold_changes(tmp_path):
    a = parse_recipe(BASE, env={})
    b = parse_recipe(with_("extract.min_chars", 81), env={})
    c = parse_recipe(with_("filter.rules", {"zh": {"gopher_min_words": {"min_words": 30}}}), env={})
    assert a.recipe_id.split("@")[0] == b.recipe_id.split("@")[0] == "unit"
    assert len({a.recipe_id, b.recipe_id, c.recipe_id}) == 3
    assert len({a.sha1, b.sha1, c.sha1}) == 3


def test_recipe_id_is_stable_across_loads_and_key_order(tmp_path):
    a = parse_recipe(BASE, env={})
    reordered = {"mix": BASE["mix"], "crawl": BASE["crawl"], "name": "unit"}
    assert parse_recipe(reordered, env={}).recipe_id == a.recipe_id
    # Spelling out a default does not change the id: the hash covers the validated settings.
    assert parse_recipe(with_("extract.min_chars", 80), env={}).recipe_id == a.recipe_id
    p = tmp_path / "unit.yaml"
    p.write_text(yaml.safe_dump(BASE))
    assert load_recipe(p, env={}).recipe_id == a.recipe_id
