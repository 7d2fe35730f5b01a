"""The code location loads and has the shape the UI must show."""

from __future__ import annotations

import itertools
from datetime import UTC

import dagster as dg
from dagster._core.definitions.asset_key import AssetCheckKey


def test_definitions_load_with_graph_gate_schedule_and_sensor():
    from definitions import defs

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    chain = ["pages", "documents", "dedup_clusters", "doc_signals", "rejections", "mix_decisions",
             "corpus_candidate", "training_corpus"]
    for up, down in itertools.pairwise(chain):
        assert dg.AssetKey(up) in graph.get(dg.AssetKey(down)).parent_keys, (up, down)
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["pages"] == "crawl" and groups["documents"] == "extract" and groups["dedup_clusters"] == "dedup"
    assert groups["rejections"] == "filter" and groups["mix_decisions"] == "mix"
    check = graph.get_check_spec(AssetCheckKey(dg.AssetKey("corpus_candidate"), "candidate_gate"))
    assert check.blocking
    cond = graph.get(dg.AssetKey("training_corpus")).automation_condition
    assert "all_deps_blocking_checks_passed" in str(cond.get_label() or "") or \
           "all_deps_blocking_checks_passed" in repr(cond)
    assert defs.resolve_schedule_def("crawl_schedule") and defs.resolve_sensor_def("new_batch_sensor")
    for name in ("crawl_job", "process_batch_job", "full_batch_job"):
        assert defs.resolve_job_def(name)
    for key in chain:
        assert graph.get(dg.AssetKey(key)).code_version


def test_schedule_registers_a_new_batch_and_requests_its_crawl():
    from datetime import datetime

    from assets.partitions import crawl_batches
    from definitions import defs

    with dg.instance_for_test() as instance:
        schedule = defs.resolve_schedule_def("crawl_schedule")
        ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 3, 1, 3, tzinfo=UTC),
                                        repository_def=defs.get_repository_def())
        req = schedule.evaluate_tick(ctx).run_requests[0]
        assert req.partition_key == "b20260301T030000-crawl"
        assert req.partition_key in instance.get_dynamic_partitions(crawl_batches.name)
