"""Model files on a lake in an object store: saved under their sha1 in the bucket, loaded back through a
sha1-verified local cache, scoring exactly like the model that was trained (moto's S3 on 127.0.0.1)."""

from __future__ import annotations

import numpy as np
import pytest

from goldpan.classify.model import positive_probability, train_binary
from goldpan.classify.registry import local_model_path, models_dir, store_model
from goldpan.classify.scores import LoadedModel
from goldpan.lake import Lake
from tests.fixtures.classify_samples import GOOD_EN, GOOD_ZH, SMALL, SPAM


def test_model_round_trips_through_a_bucket(local_s3, tmp_path, monkeypatch):
    _, s3, opts = local_s3
    s3.create_bucket(Bucket="lake")
    monkeypatch.setenv("GOLDPAN_MODEL_CACHE", str(tmp_path / "cache"))
    lake = Lake("s3://lake/corpus", opts)
    assert models_dir(lake) == "s3://lake/corpus/models"

    model = train_binary(GOOD_EN + GOOD_ZH, SPAM, SMALL)
    sha1, path = store_model(lake, "quality", model)
    assert path == f"s3://lake/corpus/models/quality/{sha1}.bin"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]]
    assert keys == [f"corpus/models/quality/{sha1}.bin"]  # one complete object, no temp leftovers

    loaded = LoadedModel.from_record({"status": "trained", "sha1": sha1, "path": path}, opts)
    probe = [GOOD_EN[0][:120], "cheap watches click here", GOOD_ZH[1]]
    assert np.array_equal(positive_probability(loaded.model, probe), positive_probability(model, probe))
    assert (tmp_path / "cache" / f"{sha1}.bin").exists()


def test_a_download_that_does_not_match_its_sha1_is_refused(local_s3, tmp_path, monkeypatch):
    _, s3, opts = local_s3
    s3.create_bucket(Bucket="lake")
    monkeypatch.setenv("GOLDPAN_MODEL_CACHE", str(tmp_path / "cache"))
    s3.put_object(Bucket="lake", Key="corpus/models/quality/abc.bin", Body=b"not the model the table names")
    with pytest.raises(ValueError, match="sha1"):
        local_model_path("s3://lake/corpus/models/quality/abc.bin", "abc", opts)
    assert not list((tmp_path / "cache").iterdir())  # nothing half-trusted is left in the cache
