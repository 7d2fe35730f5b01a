"""Shared fixtures: an isolated Dagster home and lake per test, and the sample site on 127.0.0.1."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Tests never read or write the developer's ./lake, .dagster_home or environment settings."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("GOLDPAN_LAKE", str(tmp_path / "lake"))
    monkeypatch.delenv("GOLDPAN_RECIPE", raising=False)
    monkeypatch.delenv("GOLDPAN_SEED_URL", raising=False)
    monkeypatch.chdir(REPO)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="session")
def sample_site():
    from goldpan.sample_site import SampleSite

    with SampleSite() as site:
        yield site
