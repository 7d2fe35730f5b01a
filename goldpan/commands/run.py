"""`goldpan run --warc PATH_OR_GLOB... | --crawl [--seed URL...] [--recipe R]`: one batch, whole graph.

Registers the batch (a dynamic partition) on the Dagster instance at $DAGSTER_HOME (default
./.dagster_home, as `make ui` uses) and runs every stage for it there, so the run and its assets
show in the UI; prints per-stage progress and ends with the funnel. The Dagster side lives in
`assets/launch.py` (this library never imports Dagster); it is found next to the installed package.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit


def _repo_root() -> Path:
    """The checkout holding definitions.py: the package's parent (editable install) or the cwd."""
    for cand in (Path(__file__).resolve().parents[2], Path.cwd()):
        if (cand / "definitions.py").exists() and (cand / "assets").is_dir():
            return cand
    sys.exit("goldpan run: run it from the goldpan checkout (definitions.py not found)")


def _crawl_recipe(recipe_path: str, seeds: list[str], out_dir: Path) -> str:
    """A copy of the recipe whose crawl starts from `seeds` (and may visit their hosts)."""
    import yaml

    from goldpan.recipe_loader import load_recipe

    rc = load_recipe(recipe_path)
    data = rc.model_dump(mode="json")
    hosts = sorted({urlsplit(s).hostname or "" for s in seeds} - {""})
    data["crawl"]["seeds"] = seeds
    data["crawl"]["allowed_hosts"] = sorted(set(data["crawl"]["allowed_hosts"]) | set(hosts))
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{rc.name}-seeds.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    load_recipe(out)  # fail here, not inside the run, if the seeds made it invalid
    return str(out)


def run(args) -> int:
    root = _repo_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    lake = args.lake or os.environ.get("GOLDPAN_LAKE", "lake")
    if "://" not in lake:
        lake = os.path.abspath(lake)
    recipe = args.recipe or os.environ.get("GOLDPAN_RECIPE") or str(
        root / "recipes" / ("warc.yaml" if args.warc else "demo.yaml"))
    home = os.environ.get("DAGSTER_HOME") or str(root / ".dagster_home")
    os.makedirs(home, exist_ok=True)
    os.environ["DAGSTER_HOME"] = os.path.abspath(home)
    if args.crawl and args.seed:
        recipe = _crawl_recipe(recipe, args.seed, Path(home) / "goldpan-run")
    if args.workers:
        os.environ["GOLDPAN_WORKERS"] = str(args.workers)
    if args.engine:
        os.environ["GOLDPAN_ENGINE"] = args.engine
    if args.ray_address:
        os.environ["GOLDPAN_RAY_ADDRESS"] = args.ray_address
    # The code location's resources read these when definitions.py is imported.
    os.environ["GOLDPAN_LAKE"] = lake
    os.environ["GOLDPAN_RECIPE"] = os.path.abspath(recipe)
    # The worker pool starts now, its forkserver's imports beside this process's (Dagster, GX).
    from goldpan.engine import make_engine, prestart_in_background
    from goldpan.recipe_loader import load_recipe

    prestart_in_background(make_engine(load_recipe(os.environ["GOLDPAN_RECIPE"]).engine))
    launch = importlib.import_module("assets.launch")
    ok, _batch = launch.launch(warc=args.warc or [], crawl=bool(args.crawl), lake_root=lake,
                               recipe_path=os.environ["GOLDPAN_RECIPE"], batch=args.batch)
    return 0 if ok else 1


def register(sub) -> None:
    p = sub.add_parser("run", help="register a batch (WARC files or a crawl) and run the whole graph on the "
                       "Dagster instance, with progress and the funnel")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--warc", nargs="+", metavar="PATH_OR_GLOB", help="WARC/WET files, globs or URIs: one batch")
    src.add_argument("--crawl", action="store_true", help="crawl a new batch (seeds from the recipe or --seed)")
    p.add_argument("--seed", action="append", metavar="URL", help="crawl seed (repeatable; with --crawl)")
    p.add_argument("--recipe", help="recipe YAML (default: $GOLDPAN_RECIPE, else recipes/warc.yaml for --warc, "
                   "recipes/demo.yaml for --crawl)")
    p.add_argument("--workers", type=int, help="worker processes (default: $GOLDPAN_WORKERS, recipe, cores)")
    p.add_argument("--engine", choices=["local", "inprocess", "ray"],
                   help="where per-document work runs (default: $GOLDPAN_ENGINE, else the recipe's engine.kind)")
    p.add_argument("--ray-address", help="Ray cluster to use with --engine ray: auto, ray://head:10001 "
                   "(default: $GOLDPAN_RAY_ADDRESS, recipe engine.ray.address, else a private local Ray)")
    p.add_argument("--batch", help="batch id (default: b<UTC time>-warc-<file> or b<UTC time>-crawl)")
    p.set_defaults(fn=run)
