"""The convolution benchmark case (benchmarks/conv.py): the answer check and the bound's shapes; no timings asserted.

Tests marked ``bench`` need PyTorch: ``make bench`` runs them (``pytest -m bench``) before it
times anything; ``make test`` deselects them (pyproject's addopts), it never skips them.
"""
import numpy as np
import pytest

from benchmarks import conv


def test_the_epochs_products_are_the_im2col_and_dense_shapes():
    shapes = conv.gemm_shapes(64)  # two batches of 32
    assert len(shapes) == 2 * (2 + 3 + 3 + 3)  # conv1: forward + dW; conv2: + dcols; 2 Dense x 3
    assert (32, 9, 32 * 64) in shapes  # conv1 forward: W (32, 1*3*3) @ cols (9, 32 images * 8*8)
    assert (64, 32 * 9, 32 * 16) in shapes  # conv2 forward on the pooled 4x4 maps
    assert (32, 256, 128) in shapes and (256, 32, 128) in shapes  # Dense 256 -> 128: forward, dW


@pytest.mark.bench
def test_both_peers_start_from_the_same_cnn():
    import torch
    model = conv.nnlib_model(dropout=0.0)
    peer = conv.TorchCNN([p.copy() for p in model.parameters()], dropout=0.0)
    X, _ = conv.data()
    ours = model.forward(X[:5])
    theirs = peer.model.eval()(torch.from_numpy(X[:5])).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.bench
def test_the_answer_check_fails_when_the_peers_disagree(monkeypatch):
    X, y = conv.data()
    X, y = X[:96], y[:96]
    assert np.isfinite(conv.check_answer(X, y))
    original = conv.TorchCNN.epoch
    monkeypatch.setattr(conv.TorchCNN, "epoch", lambda self, X, y, shuffle=True: original(self, X, y, shuffle) + 0.1)
    with pytest.raises(AssertionError, match="epoch loss"):
        conv.check_answer(X, y)
