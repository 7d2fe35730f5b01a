"""`goldpan mix --recipe R`: dry-run the mix over the lake and print target vs achieved shares.

Nothing is written. When a target cannot be met the command says which and why and exits 3, the
same refusal the `mix_decisions` asset raises, so a recipe can be checked before a run.
"""

from __future__ import annotations

from goldpan.commands._lake import open_lake


def run(args) -> int:
    from goldpan.audit.takedowns import TakedownMatcher
    from goldpan.decontam.index import build_index
    from goldpan.mix import stage as mix_stage
    from goldpan.mix.budget import MixInfeasible
    from goldpan.recipe import RecipeError
    from goldpan.recipe_loader import load_recipe

    lake = open_lake(args)
    try:
        recipe = load_recipe(args.recipe)
    except RecipeError as exc:
        print(f"goldpan mix: {exc}")
        return 2
    index = build_index(recipe.decontam.eval_sets, recipe.decontam.ngram) if recipe.decontam.eval_sets else None
    try:
        out = mix_stage.run(lake, recipe, takedowns=TakedownMatcher.from_lake(lake), decontam=index, write=False)
    except MixInfeasible as exc:
        print(f"REFUSED: {recipe.recipe_id}: the targets cannot be met")
        for p in exc.plan.problems:
            print(f"  - {p}")
        print(exc.plan.table())
        return 3
    print(f"recipe {recipe.recipe_id}: seed {recipe.mix.seed}, budget by {out.plan.budget_by}")
    print(out.plan.table())
    print("decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(out.outcomes.items())))
    if out.rules:
        print("rules: " + ", ".join(f"{k} {v}" for k, v in sorted(out.rules.items())))
    return 0


def register(sub) -> None:
    p = sub.add_parser("mix", help="dry-run the mix: target vs achieved shares, or why a target cannot be met")
    p.add_argument("--recipe", default="recipes/demo.yaml")
    p.set_defaults(fn=run)
