"""The result's typed parts: records that read like the dicts they replaced, JSON that
round-trips, and results written by schema 1.3 read back."""

from explain import Explanation, explain
from explain.result import SCHEMA_VERSION, BaselineInfo, CheckpointInfo


def test_typed_records_round_trip_and_read_like_dicts(tiny_path):
    e = explain("Great film.", str(tiny_path("bert")), n_steps=8, cache=False)
    assert isinstance(e.checkpoint, CheckpointInfo) and isinstance(e.baseline, BaselineInfo)
    assert e.checkpoint["source"] == e.checkpoint.get("source") == e.checkpoint.source
    assert {**e.checkpoint, "source": "x"}["source"] == "x"
    assert all(isinstance(v, float) for v in e.timings.values()) and e.cache == "miss"
    data = e.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION and data["checkpoint"]["source"] == e.checkpoint.source
    assert Explanation.from_dict(data) == e


def test_a_schema_1_3_result_reads_back(tiny_path):
    """1.3 kept the cache state among the timings' seconds."""
    data = explain("Great film.", str(tiny_path("bert")), n_steps=8, cache=False).to_dict()
    old = {**data, "schema_version": "1.3", "timings": {**data["timings"], "cache": "hit"}}
    del old["cache"]
    back = Explanation.from_dict(old)
    assert back.cache == "hit" and "cache" not in back.timings
