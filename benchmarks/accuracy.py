"""Time to accuracy: wall time until the chapter-5 digits network first reaches 97%.

The network and recipe of ``notebooks/05_digits.ipynb``: the digits split
60/20/20 (seed 0, stratified), pixels standardised with the training set's
mean and standard deviation (+ 0.1), 64-64-10 with ReLU and He
initialisation, softmax cross-entropy, SGD with lr 0.05 and momentum 0.9,
batch 32, shuffled every epoch, the data's own dtype (float64). After every
epoch the validation accuracy is measured; the clock stops at the first
epoch that reaches the target. nnlib: ``fit(epochs=1)`` then ``evaluate``,
as a learner writes the loop; PyTorch: the ordinary eager loop, the same
initial weights, evaluation under ``torch.no_grad()``. The two shuffle with
different generators, so the number of epochs may differ by one or two:
both are reported.
"""
import time

import numpy as np

from nnlib import SGD, Dense, ReLU, Sequential
from nnlib.data import load_digits, train_test_split

TARGET = 0.97
MAX_EPOCHS = 60
LR, MOMENTUM, BATCH, WIDTH = 0.05, 0.9, 32, 64


def digits_split(seed=0):
    """(x_train, y_train, x_val, y_val) as chapter 5 prepares them."""
    X, y = load_digits()
    X_rest, _, y_rest, _ = train_test_split(X, y, test_size=0.2, seed=seed, stratify=True)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.25, seed=seed,
                                                      stratify=True)
    mu, sigma = (X_train / 16).mean(axis=0), (X_train / 16).std(axis=0) + 0.1
    return (X_train / 16 - mu) / sigma, y_train, (X_val / 16 - mu) / sigma, y_val


def nnlib_model(seed=0):
    return Sequential([Dense(64, WIDTH, init="he"), ReLU(), Dense(WIDTH, 10, init="he")], seed=seed)


def nnlib_run(data, seed=0, target=TARGET, max_epochs=MAX_EPOCHS):
    """(seconds, epochs) until nnlib's validation accuracy first reaches target (epochs None if never)."""
    x_train, y_train, x_val, y_val = data
    model, optimizer = nnlib_model(seed), SGD(lr=LR, momentum=MOMENTUM)
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        model.fit(x_train, y_train, epochs=1, batch_size=BATCH, optimizer=optimizer, verbose=False)
        if model.evaluate(x_val, y_val)["accuracy"] >= target:
            return time.perf_counter() - start, epoch
    return time.perf_counter() - start, None


def torch_run(data, seed=0, target=TARGET, max_epochs=MAX_EPOCHS):
    """(seconds, epochs) for the same network and recipe in PyTorch (CPU, eager)."""
    import torch

    x_train, y_train, x_val, y_val = data
    weights = [p.copy() for p in nnlib_model(seed).parameters()]  # the same start as nnlib
    dtype = getattr(torch, str(x_train.dtype))
    net = torch.nn.Sequential(torch.nn.Linear(64, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, 10)).to(dtype)
    with torch.no_grad():
        for layer, W, b in ((net[0], weights[0], weights[1]), (net[2], weights[2], weights[3])):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            layer.bias.copy_(torch.from_numpy(b))
    optimizer = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    generator = torch.Generator().manual_seed(seed)
    X, y = torch.from_numpy(x_train), torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    Xv, yv = torch.from_numpy(x_val), torch.from_numpy(np.asarray(y_val, dtype=np.int64))
    start = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        order = torch.randperm(X.shape[0], generator=generator)
        for first in range(0, X.shape[0], BATCH):
            idx = order[first:first + BATCH]
            loss = torch.nn.functional.cross_entropy(net(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            accuracy = (net(Xv).argmax(dim=1) == yv).double().mean().item()
        if accuracy >= target:
            return time.perf_counter() - start, epoch
    return time.perf_counter() - start, None


def time_to_accuracy(with_torch, repeats=3, target=TARGET):
    """{"nnlib": {...}, "torch": {...} or None, "target": target}: median seconds and epochs of repeats.

    Each repeat trains from the same seed (the same run); the first run also
    warms up (compiled kernels loaded, PyTorch's first-call costs) and is not
    counted when repeats > 1.
    """
    data = digits_split()
    runners = {"nnlib": nnlib_run}
    if with_torch:
        runners["torch"] = torch_run
    results = {"target": target, "torch": None}
    for name, runner in runners.items():
        runs = [runner(data, target=target) for _ in range(repeats + (1 if repeats > 1 else 0))]
        runs = runs[1:] if repeats > 1 else runs
        results[name] = {"median_s": float(np.median([s for s, _ in runs])),
                         "epochs": runs[0][1], "reached": all(e is not None for _, e in runs)}
    return results
