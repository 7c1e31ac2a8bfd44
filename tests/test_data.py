"""Tests for nnlib.data: toy sets, the UCI digits, train_test_split."""
import gzip
import hashlib
import pathlib

import numpy as np
import pytest

from nnlib import data
from nnlib import mnist
from nnlib.data import (
    blobs, circles, load_digits, logic_gate, moons, spirals, train_test_split,
)

TOY_SETS = {
    "blobs": (blobs, 3),  # (factory, default number of classes) with centers=3
    "moons": (moons, 2),
    "circles": (circles, 2),
    "spirals": (spirals, 3),
}


def make_toy(name, **kwargs):
    factory, _ = TOY_SETS[name]
    if name == "blobs":
        kwargs.setdefault("centers", 3)
    return factory(**kwargs)


# ---------------------------------------------------------------- logic gates
@pytest.mark.parametrize("name, table", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
    ("nand", [1, 1, 1, 0]), ("xor", [0, 1, 1, 0]),
])
def test_logic_gate_truth_tables(name, table):
    X, y = logic_gate(name)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, table)


def test_logic_gate_is_case_insensitive():
    np.testing.assert_array_equal(logic_gate("XoR")[1], [0, 1, 1, 0])


def test_logic_gate_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        logic_gate("nor")
    for valid in ("and", "or", "nand", "xor"):
        assert repr(valid) in str(info.value)


# ---------------------------------------------------------------- toy sets: common
@pytest.mark.parametrize("name", TOY_SETS)
@pytest.mark.parametrize("n", [7, 200, 301])
def test_toy_shapes_dtypes_and_balance(name, n):
    X, y = make_toy(name, n_samples=n)
    k = TOY_SETS[name][1]
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k and counts.sum() == n
    assert counts.max() - counts.min() <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("name", TOY_SETS)
def test_toy_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = make_toy(name, seed=3)
    X2, y2 = make_toy(name, seed=3)
    X3, _ = make_toy(name, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("name", TOY_SETS)
def test_toy_rows_are_shuffled(name):
    _, y = make_toy(name)
    assert np.any(np.diff(y) < 0), "labels come out sorted, i.e. not shuffled"
    assert y[:20].min() != y[:20].max()


@pytest.mark.parametrize("name", TOY_SETS)
@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_toy_rejects_bad_n_samples(name, bad):
    with pytest.raises(ValueError, match="n_samples"):
        make_toy(name, n_samples=bad)


@pytest.mark.parametrize("name", ["moons", "circles", "spirals"])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_toy_rejects_bad_noise(name, bad):
    with pytest.raises(ValueError, match="noise"):
        make_toy(name, noise=bad)


def test_n_samples_smaller_than_class_count_is_refused():
    with pytest.raises(ValueError, match=">= 3"):
        spirals(n_samples=2, n_classes=3)


# ---------------------------------------------------------------- blobs
def test_blobs_given_centres_are_class_means():
    centres = np.array([[-3.0, 1.0], [2.0, 5.0], [4.0, -4.0]])
    X, y = blobs(n_samples=3000, centers=centres, std=0.5, seed=1)
    for c in range(3):
        np.testing.assert_allclose(X[y == c].mean(axis=0), centres[c], atol=0.05)
        np.testing.assert_allclose(X[y == c].std(axis=0), 0.5, atol=0.05)


def test_blobs_std_zero_puts_every_point_on_its_centre():
    centres = np.array([[-1.0, 0.0], [1.0, 2.0]])
    X, y = blobs(n_samples=10, centers=centres, std=0.0)
    np.testing.assert_array_equal(X, centres[y])


@pytest.mark.parametrize("k", [2, 5, 10])
def test_blobs_int_centres_are_well_separated(k):
    X, y = blobs(n_samples=100 * k, centers=k, std=0.0)
    means = np.array([X[y == c].mean(axis=0) for c in range(k)])
    gaps = np.linalg.norm(means[:, None] - means[None, :], axis=-1)
    assert gaps[~np.eye(k, dtype=bool)].min() >= 4 - 1e-9


@pytest.mark.parametrize("bad", [0, [[1.0, 2.0, 3.0]], [1.0, 2.0], [[np.nan, 0.0]]])
def test_blobs_rejects_bad_centres(bad):
    with pytest.raises(ValueError, match="centers"):
        blobs(centers=bad)


def test_blobs_rejects_negative_std():
    with pytest.raises(ValueError, match="std"):
        blobs(std=-1.0)


# ---------------------------------------------------------------- moons
def test_moons_without_noise_lie_on_their_half_circles():
    X, y = moons(n_samples=101, noise=0.0)
    top, bottom = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0)
    assert (top[:, 1] >= -1e-12).all()
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0)
    assert (bottom[:, 1] <= 0.5 + 1e-12).all()
    # the end points of both arcs are included
    assert np.isclose(top[:, 0].min(), -1) and np.isclose(bottom[:, 0].max(), 2)


def test_moons_noise_moves_points_off_the_arcs():
    X, y = moons(n_samples=500, noise=0.1, seed=2)
    r = np.hypot(X[y == 0, 0], X[y == 0, 1])
    assert 0.05 < np.std(r) < 0.15


# ---------------------------------------------------------------- circles
@pytest.mark.parametrize("factor", [0.3, 0.5, 0.8])
def test_circles_without_noise_have_radius_1_and_factor(factor):
    X, y = circles(n_samples=200, noise=0.0, factor=factor)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], factor)


def test_circles_noise_keeps_mean_radii():
    X, y = circles(n_samples=4000, noise=0.05, factor=0.4, seed=5)
    r = np.hypot(X[:, 0], X[:, 1])
    assert abs(r[y == 0].mean() - 1.0) < 0.01
    assert abs(r[y == 1].mean() - 0.4) < 0.01
    assert r[y == 0].std() > 0.02


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, True])
def test_circles_rejects_bad_factor(bad):
    with pytest.raises(ValueError, match="factor"):
        circles(factor=bad)


# ---------------------------------------------------------------- spirals
def test_spirals_follow_the_cs231n_formula_without_noise():
    X, y = spirals(n_samples=300, n_classes=3, noise=0.0)
    r = np.hypot(X[:, 0], X[:, 1])
    angle = np.arctan2(X[:, 0], X[:, 1])  # point = r * (sin t, cos t)
    expected = 4.0 * y + 4.0 * r  # t = 4 j + 4 r along arm j
    inner = r > 1e-9  # the angle at the origin is undefined
    diff = np.angle(np.exp(1j * (angle[inner] - expected[inner])))
    np.testing.assert_allclose(diff, 0.0, atol=1e-9)
    for j in range(3):
        assert np.isclose(r[y == j].min(), 0.0) and np.isclose(r[y == j].max(), 1.0)


def test_spirals_noise_perturbs_angle_not_radius():
    X, y = spirals(noise=0.2, seed=1)
    X0, _ = spirals(noise=0.0, seed=1)
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12
    assert not np.allclose(np.sort(X[:, 0]), np.sort(X0[:, 0]))


@pytest.mark.parametrize("k", [2, 5])
def test_spirals_class_count(k):
    _, y = spirals(n_samples=50, n_classes=k)
    assert set(y.tolist()) == set(range(k))


def test_spirals_rejects_bad_class_count():
    with pytest.raises(ValueError, match="n_classes"):
        spirals(n_classes=0)


# ---------------------------------------------------------------- digits
@pytest.fixture
def fresh_digits_cache():
    data._digits_arrays.cache_clear()
    yield
    data._digits_arrays.cache_clear()


def test_digits_shapes_dtypes_and_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))
    counts = np.bincount(y)
    assert len(counts) == 10
    assert counts.min() >= 174 and counts.max() <= 183


def test_digits_first_row_matches_the_file():
    X, y = load_digits()
    np.testing.assert_array_equal(X[0, :8], [0, 0, 5, 13, 9, 1, 0, 0])
    assert y[0] == 0 and y[1] == 1


def test_digits_images_are_the_rows_as_8x8():
    X, y, images = load_digits(return_images=True)
    assert images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(images[5], X[5].reshape(8, 8))
    np.testing.assert_array_equal(images[5, 1], X[5, 8:16])


def test_digits_hands_out_copies():
    X, y, images = load_digits(return_images=True)
    X[:] = -1
    y[:] = -1
    images[:] = -1
    X2, y2, images2 = load_digits(return_images=True)
    assert X2.min() == 0 and y2.min() == 0 and images2.min() == 0
    assert X2.flags.writeable and not np.shares_memory(X2, load_digits()[0])


def test_digits_checksum_mismatch_is_a_clear_error(tmp_path, monkeypatch, fresh_digits_cache):
    original = data._digits_file().read_bytes()
    corrupt = tmp_path / "digits.csv.gz"
    rows = gzip.decompress(original).replace(b"\n0,0,5,", b"\n0,0,6,", 1)
    corrupt.write_bytes(gzip.compress(rows))
    actual = hashlib.sha256(corrupt.read_bytes()).hexdigest()
    monkeypatch.setattr(data, "_digits_file", lambda: corrupt)
    with pytest.raises(mnist.ChecksumError) as info:
        load_digits()
    message = str(info.value)
    for part in (str(corrupt), data.DIGITS_SHA256, actual, "reinstall nnlib-course"):
        assert part in message


def test_digits_missing_file_is_a_clear_error(tmp_path, monkeypatch, fresh_digits_cache):
    missing = tmp_path / "nowhere" / "digits.csv.gz"
    monkeypatch.setattr(data, "_digits_file", lambda: missing)
    with pytest.raises(FileNotFoundError) as info:
        load_digits()
    assert str(missing) in str(info.value)
    assert "reinstall nnlib-course" in str(info.value)


def test_digits_packaged_file_has_the_documented_checksum():
    raw = data._digits_file().read_bytes()
    assert hashlib.sha256(raw).hexdigest() == data.DIGITS_SHA256
    licence = pathlib.Path(data.__file__).parent / "datasets" / "DIGITS_LICENSE.txt"
    assert data.DIGITS_SHA256 in licence.read_text()


# ---------------------------------------------------------------- train_test_split
def ids_and_labels(n=100, k=4):
    X = np.arange(n, dtype=np.float64).reshape(n, 1) * np.ones((1, 3))  # row i = [i, i, i]
    y = np.arange(n) % k
    return X, y


@pytest.mark.parametrize("stratify", [False, True])
@pytest.mark.parametrize("test_size, n_test",
                         [(0.2, 20), (0.25, 25), (0.333, 34), (0.07, 7), (7, 7)])
def test_split_sizes(test_size, n_test, stratify):
    X, y = ids_and_labels()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                        stratify=stratify)
    assert X_test.shape == (n_test, 3) and y_test.shape == (n_test,)
    assert X_train.shape == (100 - n_test, 3) and y_train.shape == (100 - n_test,)


@pytest.mark.parametrize("stratify", [False, True])
def test_split_partitions_rows_and_keeps_pairs(stratify):
    X, y = ids_and_labels()
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=stratify)
    train_ids, test_ids = X_train[:, 0].astype(int), X_test[:, 0].astype(int)
    assert not set(train_ids) & set(test_ids)
    assert sorted(np.concatenate([train_ids, test_ids])) == list(range(100))
    np.testing.assert_array_equal(y_train, train_ids % 4)
    np.testing.assert_array_equal(y_test, test_ids % 4)
    assert np.any(np.diff(test_ids) < 0), "test rows should be shuffled"


def test_split_is_deterministic_per_seed():
    X, y = ids_and_labels()
    a = train_test_split(X, y, seed=1)
    b = train_test_split(X, y, seed=1)
    c = train_test_split(X, y, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


def test_split_stratify_keeps_class_proportions_on_digits():
    X, y = load_digits()
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=True, seed=4)
    assert len(y_test) == 540  # ceil(0.3 * 1797), not fewer after per-class rounding
    ideal = np.bincount(y) * len(y_test) / len(y)
    assert np.abs(np.bincount(y_test, minlength=10) - ideal).max() < 1
    np.testing.assert_array_equal(np.bincount(y_train) + np.bincount(y_test), np.bincount(y))


def test_split_stratify_with_a_rare_class():
    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100).reshape(100, 1)
    for seed in range(5):
        _, _, _, y_test = train_test_split(X, y, test_size=0.2, stratify=True, seed=seed)
        assert np.bincount(y_test).tolist() == [18, 2]


def test_split_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError) as info:
        train_test_split(np.zeros((10, 2)), np.zeros(9))
    assert "10" in str(info.value) and "9" in str(info.value)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, 0, 10, 11, True, "0.2"])
def test_split_rejects_bad_test_size(bad):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=bad)


def test_split_stratify_needs_two_samples_per_class():
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(ValueError, match="class 2"):
        train_test_split(np.zeros((7, 1)), y, test_size=3, stratify=True)


def test_data_reexports_mnist_loader():
    assert data.load_mnist is mnist.load_mnist
    assert data.parse_idx is mnist.parse_idx
