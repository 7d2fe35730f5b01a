"""Shared fixtures: an isolated Dagster home and lake per test, and the sample site on 127.0.0.1."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# `make test` runs the files in two processes (`--dist loadfile`: a file stays in one), so the suite
# lasts at least as long as its heaviest file plus whatever that process ran before it. Files start
# heaviest first: these, in this order (seconds on an idle 2-core machine, last measured), then
# every other file with a `slow` test, then the integration files, then the rest.
HEAVIEST_FIRST = (
    "integration/test_concurrent_runs.py",  # ~230: ten whole-graph runs in subprocesses
    "integration/test_ray_graph.py",  # ~100: the graph in process and on Ray over S3
    "integration/test_demo_rerun.py",  # ~100: `make demo` twice
    "integration/test_real_size.py",  # ~60-120: 1,000 real pages
    "integration/test_pipeline.py",
    "integration/test_audit.py",
    "integration/test_crawl_batches.py",
)


def pytest_configure(config):
    """xdist orders files by their number of tests unless told not to: keep the order set below."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Heaviest files first (see HEAVIEST_FIRST); a stable sort, so each file's tests stay together
    and in their own order (module fixtures are set up once)."""

    def rank(item) -> tuple[int, int]:
        path = item.path.relative_to(REPO / "tests").as_posix() if item.path.is_relative_to(REPO / "tests") else ""
        if path in HEAVIEST_FIRST:
            return 0, HEAVIEST_FIRST.index(path)
        if item.get_closest_marker("slow"):
            return 1, 0
        return (2, 0) if item.get_closest_marker("integration") else (3, 0)

    first_rank: dict = {}
    for item in items:
        r = rank(item)
        first_rank[item.path] = min(first_rank.get(item.path, r), r)
    items.sort(key=lambda it: first_rank[it.path])


@pytest.fixture(scope="session", autouse=True)
def _private_addresses_opt_in():
    """Tests crawl their own servers on 127.0.0.1: the opt-in crawl.allow_private requires
    (GOLDPAN_ALLOW_PRIVATE=1). Session-wide, so module fixtures that crawl see it; tests of the
    refusal delete it with monkeypatch."""
    import os

    old = os.environ.get("GOLDPAN_ALLOW_PRIVATE")
    os.environ["GOLDPAN_ALLOW_PRIVATE"] = "1"
    yield
    if old is None:
        os.environ.pop("GOLDPAN_ALLOW_PRIVATE", None)
    else:
        os.environ["GOLDPAN_ALLOW_PRIVATE"] = old


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Tests never read or write the developer's ./lake, .dagster_home or environment settings."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("GOLDPAN_LAKE", str(tmp_path / "lake"))
    monkeypatch.delenv("GOLDPAN_RECIPE", raising=False)
    monkeypatch.delenv("GOLDPAN_SEED_URL", raising=False)
    monkeypatch.delenv("GOLDPAN_SAMPLE_ADDR", raising=False)
    monkeypatch.chdir(REPO)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="session")
def sample_site():
    from sample.server import SampleSite

    with SampleSite() as site:
        yield site


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, sample_site) -> Path:
    """One whole-graph run of the demo recipe over the sample site (lake + closed Dagster instance,
    tests/fixtures/pipeline_helpers.build_demo_run), made once per test process for the modules that
    read it or copy it (copy_demo_run) before changing it. Never written to."""
    from tests.fixtures.pipeline_helpers import build_demo_run

    return build_demo_run(tmp_path_factory.mktemp("demo-run"), sample_site)


@pytest.fixture
def local_s3(monkeypatch):
    """moto's S3 server on 127.0.0.1 in its own process: (endpoint, boto3 client, deltalake storage options).

    Its own process because deltalake's calls hold the GIL while they wait on the network, so a
    server thread in this interpreter could not answer them. Skips when the dev extra is missing.
    """
    import socket
    import subprocess
    import sys
    import time

    pytest.importorskip("moto.server", reason="moto[server] (dev extra) provides the local S3 server")
    boto3 = pytest.importorskip("boto3")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the local S3 server did not start")
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(k, "testing")
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        opts = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}
        yield endpoint, client, opts
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def ray_local():
    """A real local Ray instance (2 CPUs, small object store, no dashboard) for one test module, always
    shut down afterwards. Test modules' own batch functions travel by value (workers cannot import
    test files). Skips when Ray (the `ray` extra, in `.[dev]`) is missing."""
    import sys

    ray = pytest.importorskip("ray", reason="ray (the ray extra, included in dev) runs the Ray engine tests")
    from goldpan.engine.ray_engine import ensure_ray, shutdown_ray

    shutdown_ray()
    ensure_ray(None, num_cpus=2, object_store_memory=200 * 2**20)
    registered = []
    for name, mod in list(sys.modules.items()):
        if name.startswith(("tests.", "test_")) and mod is not None and getattr(mod, "__file__", None):
            ray.cloudpickle.register_pickle_by_value(mod)
            registered.append(mod)
    try:
        yield ray
    finally:
        for mod in registered:
            ray.cloudpickle.unregister_pickle_by_value(mod)
        shutdown_ray()
