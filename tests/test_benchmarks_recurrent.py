"""The recurrent benchmark (benchmarks/recurrent.py): answers checked, a tiny run, the command line."""
import json

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import recurrent



def test_gate_order_round_trip():
    a = np.arange(8.0).reshape(1, 8)  # blocks i, f, o, g of width 2
    torch_order = recurrent._to_torch_order(a, 1)
    np.testing.assert_array_equal(torch_order, [[0, 1, 2, 3, 6, 7, 4, 5]])  # i, f, g, o
    np.testing.assert_array_equal(recurrent._from_torch_order(torch_order, 1), a)


def test_a_tiny_run_reports_nnlib():
    result = recurrent.run_recurrent(torch=False, repeats=1, log=lambda *_: None, n_windows=8)
    assert list(result["median_s"]) == ["nnlib numba"] and result["ratios"] == {}
    assert result["median_s"]["nnlib numba"] > 0


@pytest.mark.bench  # needs PyTorch: run by make bench
def test_torch_peers_train_the_same_epoch_as_nnlib():
    loss = recurrent.check_answers(list(recurrent.PEERS), n_windows=40)
    assert 3.0 < loss < np.log(71) + 0.2


@pytest.mark.bench  # needs PyTorch: run by make bench
def test_a_different_model_is_caught(monkeypatch):
    original = recurrent.TorchPeer.__init__

    def shifted(self, V, weights, cell=False):
        original(self, V, [w + 0.01 for w in weights], cell)

    monkeypatch.setattr(recurrent.TorchPeer, "__init__", shifted)
    with pytest.raises(AssertionError, match="torch"):
        recurrent.check_answers(list(recurrent.PEERS), n_windows=40)


def test_command_line_adds_the_recurrent_case(tmp_path, monkeypatch):
    monkeypatch.setattr(recurrent, "data", lambda n=None, _data=recurrent.data: _data(8))
    out = tmp_path / "results.json"
    assert cli.main(["--cases", "digits", "--repeats", "1", "--no-startup", "--no-torch",
                     "--out", str(out)]) == 0
    assert "nnlib numba" in json.loads(out.read_text())["recurrent"]["median_s"]
