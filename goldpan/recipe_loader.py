"""Loading a recipe: YAML, `${VAR}` expansion, pydantic's types, then names that must exist elsewhere.

A misspelled filter rule used to surface only at the filter stage (after crawling and extracting),
and a misspelled language section (`zn:` for `zh:`) was silently ignored, so its thresholds never
applied. These checks run when the recipe is loaded and name the key plus the nearest valid one.

Why a module apart from `goldpan.recipe`: the name checks read the filter rule table and the
language-ID model's labels, and those packages read the recipe's types. The types stay at the
bottom of the import graph; loading, which needs both, sits above them.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from goldpan.recipe import Recipe, RecipeError, expand_vars

DEFAULT_SECTION = "default"
INHERIT_KEY = "_inherit"


def nearest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`; did you mean 'x'?` for the closest choice, or '' when nothing is close."""
    match = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=cutoff)
    return f"; did you mean {match[0]!r}?" if match else ""


@lru_cache(maxsize=4)
def _model_languages(model_path: str) -> frozenset[str]:
    from goldpan.extract.langid import _load

    labels = _load(model_path).get_labels()
    return frozenset(str(label).removeprefix("__label__") for label in labels)


def known_languages() -> frozenset[str]:
    """The languages documents can have: the labels of the language-ID model the extract stage uses."""
    from goldpan.extract.langid import default_model_path

    return _model_languages(default_model_path())


def _calibrated_languages() -> set[str]:
    """Languages goldpan has settings for (rule sections, stop words): suggested first."""
    from goldpan.filter.rules import DEFAULT_RULES_CONFIG
    from goldpan.filter.stopwords import stop_words_for

    return {s for s in DEFAULT_RULES_CONFIG if s != DEFAULT_SECTION} | {
        lang for lang in ("en", "zh", "de", "fr", "es", "ja", "ru") if stop_words_for(lang) is not None}


def check_language(where: str, lang: str) -> None:
    from goldpan.filter.stopwords import lang_base

    langs = known_languages()
    if lang_base(lang) not in langs:
        # two-letter codes one letter apart score 0.5: accept that among the languages goldpan knows well
        hint = nearest(lang, _calibrated_languages(), cutoff=0.5) or nearest(lang, langs)
        raise ValueError(f"{where}: unknown language {lang!r} (not a label of the language-ID model){hint}")


def known_rule_keys() -> frozenset[str]:
    """Every rule key a recipe may name: the keys of goldpan's default rule sections (which list
    every rule the filter registry builds)."""
    from goldpan.filter.rules import DEFAULT_RULES_CONFIG

    return frozenset(k for section in DEFAULT_RULES_CONFIG.values() for k in section)


def check_filter_rules(rules: Mapping[str, Mapping[str, Any]]) -> None:
    """Section names are `default` or languages; rule keys exist; then the merged rule set builds
    (arguments and their ranges are checked by the rules themselves).

    Building the rule set for every language costs ~0.25 CPU-s, and one run loads its recipe once per
    step (27 times for the whole graph), so a rules mapping already checked in this process is not
    checked again: the check is a pure function of the mapping."""
    try:
        key = json.dumps(rules, sort_keys=True, default=str)
    except (TypeError, ValueError):  # not JSON-like: check it, uncached
        _check_filter_rules(rules)
        return
    _check_filter_rules_once(key)


@lru_cache(maxsize=64)
def _check_filter_rules_once(rules_json: str) -> None:
    _check_filter_rules(json.loads(rules_json))


def _check_filter_rules(rules: Mapping[str, Mapping[str, Any]]) -> None:
    from goldpan.filter.rules import DEFAULT_RULES_CONFIG, RuleSet, merge_rules_config

    keys = known_rule_keys()
    for section, body in rules.items():
        if section != DEFAULT_SECTION:
            check_language(f"filter.rules.{section}", section)
        for key in body or {}:
            if key != INHERIT_KEY and key not in keys:
                raise ValueError(f"filter.rules.{section}.{key}: unknown rule {key!r}{nearest(key, keys)}")
    RuleSet.from_config(merge_rules_config(DEFAULT_RULES_CONFIG, rules))


def extra_key_hint(model: Any, loc: tuple) -> str:
    """For pydantic's `extra_forbidden` error at `loc`, the nearest field name of the model it
    occurred in (walking nested models along `loc`)."""
    node = model
    for part in loc[:-1]:
        fields = getattr(node, "model_fields", None)
        if fields is None:
            return ""
        if isinstance(part, int):
            continue
        ann = fields.get(part)
        if ann is None:
            return ""
        node = _model_of(ann.annotation)
        if node is None:
            return ""
    fields = getattr(node, "model_fields", None)
    return nearest(str(loc[-1]), fields) if fields else ""


def _model_of(annotation: Any) -> Any:
    """The pydantic model inside an annotation (`X`, `list[X]`, `X | None`)."""
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def check_names(recipe: Recipe) -> None:
    """Rules and languages the recipe names exist; raises ValueError naming the key and a near match."""
    check_filter_rules(recipe.filter.rules)  # unknown rules and languages fail at load, not at the filter stage
    for lang in recipe.mix.languages:
        if lang != "*":  # every language (goldpan.mix.select.ALL_LANGUAGES)
            check_language("mix.languages", lang)
    for lang in recipe.gate.language_shares:
        check_language("gate.language_shares", lang)


def parse_recipe(data: Any, origin: str = "<recipe>", env: dict[str, str] | None = None) -> Recipe:
    if not isinstance(data, dict):
        raise RecipeError(f"{origin}: a recipe must be a mapping, got {type(data).__name__}")
    try:
        recipe = Recipe.model_validate(expand_vars(data, env))
    except RecipeError as exc:
        raise RecipeError(f"{origin}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise RecipeError(f"{origin}: {problems}") from None
    try:
        check_names(recipe)
    except ValueError as exc:
        raise RecipeError(f"{origin}: {exc}") from None
    return recipe


def _problem(err: Any) -> str:
    """One pydantic error as `where: what`, an unknown key with the nearest valid key."""
    loc = tuple(err["loc"])
    where = ".".join(map(str, loc))
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown key {loc[-1]!r}{extra_key_hint(Recipe, loc)}"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}"


def load_recipe(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> Recipe:
    p = Path(path)
    if not p.exists():
        raise RecipeError(f"recipe file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{p}: not valid YAML: {exc}") from None
    return parse_recipe(data, str(p), env)
