"""Bad input becomes rows with reasons, never a crashed batch and never a silent drop."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import yaml

from goldpan.lake import Lake
from goldpan.lake.views import compute_funnel
from goldpan.recipe import RecipeError
from goldpan.recipe_loader import load_recipe
from tests.fixtures.pipeline_helpers import run_batch, seed_env

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _Broken(BaseHTTPRequestHandler):
    """robots.txt is missing (allow all); /broken.html promises 5000 bytes and hangs up after 20."""

    def do_GET(self):
        if self.path == "/robots.txt":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "5000")
        self.end_headers()
        self.wfile.write(b"<html><body><p>cut of")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def broken_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_fetch_failures_are_rows_with_reasons_and_the_batch_goes_on(tmp_path, sample_site, broken_server, monkeypatch):
    seed_env(sample_site, monkeypatch)
    recipe = yaml.safe_load(Path("recipes/demo.yaml").read_text(encoding="utf-8"))
    dead = f"http://127.0.0.1:{_closed_port()}/gone.html"
    broken = f"{broken_server}/broken.html"
    recipe["crawl"]["seeds"] = [sample_site.url("/"), dead, broken]
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    lake = Lake(tmp_path / "lake")
    with dg.instance_for_test() as instance:
        result = run_batch(instance, lake.root, "b20260101T000000-bad", recipe=str(path))
    assert result.success
    with lake.connect() as con:
        outcome = {u: (s, r) for u, s, r in con.execute("SELECT url, status, reason FROM pages").fetchall()}
        funnel = compute_funnel(con)
    # no robots.txt reachable: the origin is refused without a request (conservative by design)
    assert outcome[dead] == ("rejected", "robots_unavailable")
    assert outcome[broken] == ("error", "incomplete_body")
    crawl = next(r for r in funnel if r.stage == "crawl")
    assert crawl.errored == 1 and crawl.balanced
    assert all(r.balanced for r in funnel)


def test_bad_recipe_fails_before_anything_runs(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncrawl: {seeds: [], allowed_hosts: [h]}\nmix: {languages: [en]}\n")
    with pytest.raises(RecipeError, match="crawl.seeds"):
        load_recipe(bad)
    bad.write_text("name: x\ncrawl: {seeds: [http://h/], allowed_hosts: [h], max_pagez: 3}\nmix: {languages: [en]}\n")
    with pytest.raises(RecipeError, match="max_pagez"):
        load_recipe(bad)
