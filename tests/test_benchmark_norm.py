"""``python -m benchmarks.norm`` at a tiny size: the answer check, the table (no speed asserted)."""
import pytest

from benchmarks import norm
from benchmarks.cases import DIGITS
from benchmarks.check import CheckFailed
from nnlib.backends.numba_fused_norm import NumbaFusedNormMLP

TINY = DIGITS.shrunk(200, repeats=2)


def test_every_variant_is_checked_and_timed_on_both_trainers():
    timings = norm.run(TINY, min_block_s=0.01)
    assert set(timings) == {(v, t) for v in norm.VARIANTS for t in ("fused", "layerwise")}
    assert all(t["n"] == 2 and t["median_s"] > 0 for t in timings.values())
    text = norm.render(timings, TINY)
    assert TINY.title in text
    for variant in norm.VARIANTS:
        assert variant in text


def test_the_fused_models_really_are_fused_and_the_others_not():
    for variant in norm.VARIANTS[1:]:
        assert isinstance(norm.model(variant, "fused", TINY)._trainer, NumbaFusedNormMLP)
        assert not isinstance(norm.model(variant, "layerwise", TINY)._trainer, NumbaFusedNormMLP)


def test_the_check_refuses_a_fused_path_that_trains_differently(monkeypatch):
    X, y = TINY.data()
    monkeypatch.setattr(NumbaFusedNormMLP, "_copy_back", lambda self, net, optimizer: None)
    with pytest.raises(CheckFailed, match="batchnorm"):
        norm.check(TINY, X, y)
