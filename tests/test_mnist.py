"""Tests for nnlib.mnist: IDX parsing, checksums, search order, download.

No test touches the network: downloads come from file:// mirrors in tmp_path.
"""
import gzip
import hashlib
import os
import re
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import mnist
from nnlib.mnist import ChecksumError, DownloadError, load_mnist, parse_idx

TRAIN = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
              np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D,
              np.dtype(np.float64): 0x0E}


def idx_bytes(array):
    """Encode ``array`` in the IDX format, big-endian, written out by hand."""
    header = bytes([0, 0, TYPE_CODES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def tiny_mnist(n=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def write_set(folder, names=TRAIN, n=5, seed=0, gz=True):
    """Write a tiny MNIST-format set; return (images, labels, {name: sha256})."""
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = tiny_mnist(n, seed)
    sums = {}
    for name, array in zip(names, (images, labels)):
        raw = idx_bytes(array)
        payload = gzip.compress(raw) if gz else raw
        file_name = name if gz else name[:-3]
        (folder / file_name).write_bytes(payload)
        sums[file_name] = ("sha256", hashlib.sha256(payload).hexdigest())
    return images, labels, sums


# ---------------------------------------------------------------- parse_idx
@pytest.mark.parametrize("gz", [False, True])
def test_parse_idx_round_trips_images_and_labels(tmp_path, gz):
    images, labels = tiny_mnist(4)
    for name, array in (("img", images), ("lbl", labels)):
        raw = idx_bytes(array)
        path = tmp_path / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(raw) if gz else raw)
        parsed = parse_idx(path)
        assert parsed.dtype == np.uint8 and parsed.shape == array.shape
        np.testing.assert_array_equal(parsed, array)
        np.testing.assert_array_equal(parse_idx(str(path)), array)


def test_parse_idx_reads_big_endian_multibyte_values():
    array = np.array([[1, 256, -2], [70000, -300000, 0]], dtype=np.int32)
    parsed = parse_idx(idx_bytes(array))
    assert parsed.dtype == np.int32 and parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, array)
    parsed[0, 0] = 5  # the result is an ordinary writable array


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4),
       dtype=st.sampled_from(sorted(TYPE_CODES, key=str)), seed=st.integers(0, 9))
def test_parse_idx_round_trips_any_shape_and_type(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 100, size=shape).astype(dtype)
    if array.dtype.kind == "f":
        array += 0.25  # exercise the fractional part too
    parsed = parse_idx(gzip.compress(idx_bytes(array)))
    assert parsed.shape == tuple(shape) and parsed.dtype == dtype
    np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize("head", [b"\x00\x00\x08", b"\x01\x00\x08\x01", b"\x00\x00\x07\x01",
                                  b"PK\x03\x04"])
def test_parse_idx_bad_magic_names_the_file(tmp_path, head):
    path = tmp_path / "weird-file"
    path.write_bytes(head + b"\x00" * 8)
    with pytest.raises(ValueError, match="magic") as info:
        parse_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("cut", [1, 100, 2000])
def test_parse_idx_truncated_file_names_the_file(tmp_path, cut):
    raw = idx_bytes(tiny_mnist(3)[0])
    path = tmp_path / "cut-images"
    path.write_bytes(raw[:-cut])
    with pytest.raises(ValueError, match="truncated") as info:
        parse_idx(path)
    assert str(path) in str(info.value)


def test_parse_idx_truncated_header(tmp_path):
    path = tmp_path / "header-only"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 5))
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(path)


def test_parse_idx_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(tiny_mnist(3)[0]))[:-40])
    with pytest.raises(ValueError, match="gzip") as info:
        parse_idx(path)
    assert str(path) in str(info.value)


def test_parse_idx_extra_bytes_are_refused():
    with pytest.raises(ValueError, match="too long"):
        parse_idx(idx_bytes(tiny_mnist(2)[1]) + b"\x00")


# ---------------------------------------------------------------- load_mnist from disk
@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("kind, names", [("train", TRAIN), ("test", TEST)])
def test_load_mnist_reads_a_folder(tmp_path, gz, kind, names):
    images, labels, sums = write_set(tmp_path, names, gz=gz)
    X, y = load_mnist(path=tmp_path, kind=kind, checksums=sums)
    assert X.dtype == np.uint8 and X.shape == (5, 28, 28)
    assert y.dtype == np.int64 and y.shape == (5,)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_kind_picks_the_files(tmp_path):
    train_images, _, _ = write_set(tmp_path, TRAIN, seed=1)
    test_images, _, _ = write_set(tmp_path, TEST, n=3, seed=2)
    assert np.array_equal(load_mnist(tmp_path, kind="train", checksums={})[0], train_images)
    assert np.array_equal(load_mnist(tmp_path, kind="test", checksums={})[0], test_images)


def test_load_mnist_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist(tmp_path, kind="validation")


def test_load_mnist_checksum_mismatch_says_corrupt_and_what_to_do(tmp_path):
    _, _, sums = write_set(tmp_path)
    sums[TRAIN[1]] = ("sha256", "0" * 64)
    with pytest.raises(ChecksumError) as info:
        load_mnist(tmp_path, checksums=sums)
    message = str(info.value)
    assert str(tmp_path / TRAIN[1]) in message and "corrupt" in message
    assert "Delete it" in message and "download" in message and "0" * 64 in message


def test_default_checksum_table_is_applied_to_standard_names(tmp_path):
    write_set(tmp_path)  # right names, but not the real MNIST bytes
    with pytest.raises(ChecksumError, match="md5"):
        load_mnist(tmp_path)


def test_unzipped_files_are_not_checked_against_the_gz_table(tmp_path):
    images, _, _ = write_set(tmp_path, gz=False)
    np.testing.assert_array_equal(load_mnist(tmp_path)[0], images)


def test_checksum_table_holds_the_known_md5s():
    assert mnist.MNIST_CHECKSUMS == {
        "train-images-idx3-ubyte.gz": ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train-labels-idx1-ubyte.gz": ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
        "t10k-images-idx3-ubyte.gz": ("md5", "9fb629c4189551a2d022fa330f9573f3"),
        "t10k-labels-idx1-ubyte.gz": ("md5", "ec29112dd5afa0611ce80d1b7f02629c"),
    }


def test_swapped_images_and_labels_are_refused(tmp_path):
    images, labels = tiny_mnist()
    (tmp_path / TRAIN[0]).write_bytes(gzip.compress(idx_bytes(labels)))
    (tmp_path / TRAIN[1]).write_bytes(gzip.compress(idx_bytes(images)))
    with pytest.raises(ValueError, match="0x00000803") as info:
        load_mnist(tmp_path, checksums={})
    assert TRAIN[0] in str(info.value)


def test_image_and_label_counts_must_agree(tmp_path):
    images, labels = tiny_mnist(5)
    (tmp_path / TRAIN[0]).write_bytes(idx_bytes(images))
    (tmp_path / TRAIN[1]).write_bytes(idx_bytes(labels[:4]))
    with pytest.raises(ValueError, match="5 images but .* 4 labels"):
        load_mnist(tmp_path, checksums={})


def test_path_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ValueError, match="folder"):
        load_mnist(tmp_path / "file")


# ---------------------------------------------------------------- missing files
def test_missing_files_message_lists_folder_and_only_missing_names(tmp_path):
    write_set(tmp_path, TRAIN)
    (tmp_path / TRAIN[1]).unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, checksums={})
    message = str(info.value)
    assert str(tmp_path) in message and TRAIN[1] in message
    assert TRAIN[0] not in message
    assert "download=True" in message


def test_missing_test_set_lists_both_files(tmp_path):
    write_set(tmp_path, TRAIN)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, kind="test")
    assert TEST[0] in str(info.value) and TEST[1] in str(info.value)


# ---------------------------------------------------------------- search order
@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fake home folder and no NNLIB_DATA_DIR, so the real cache is never read."""
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.delenv("NNLIB_DATA_DIR", raising=False)
    return fake_home


def test_default_folder_is_home_cache(home):
    with pytest.raises(FileNotFoundError, match=re.escape(str(home / ".cache/nnlib/mnist"))):
        load_mnist()
    images, _, _ = write_set(home / ".cache" / "nnlib" / "mnist")
    np.testing.assert_array_equal(load_mnist(checksums={})[0], images)


def test_env_var_beats_home_cache(home, tmp_path, monkeypatch):
    write_set(home / ".cache" / "nnlib" / "mnist", seed=1)
    images, _, _ = write_set(tmp_path / "env", seed=2)
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path / "env"))
    np.testing.assert_array_equal(load_mnist(checksums={})[0], images)


def test_cache_dir_beats_env_var_and_path_beats_cache_dir(home, tmp_path, monkeypatch):
    write_set(tmp_path / "env", seed=1)
    cache_images, _, _ = write_set(tmp_path / "cache", seed=2)
    path_images, _, _ = write_set(tmp_path / "path", seed=3)
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path / "env"))
    X, _ = load_mnist(cache_dir=tmp_path / "cache", checksums={})
    np.testing.assert_array_equal(X, cache_images)
    X, _ = load_mnist(path=tmp_path / "path", cache_dir=tmp_path / "cache", checksums={})
    np.testing.assert_array_equal(X, path_images)


# ---------------------------------------------------------------- download
def mirror_url(folder):
    return folder.as_uri() + "/"


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_falls_through_a_failing_mirror(tmp_path):
    images, labels, sums = write_set(tmp_path / "mirror")
    dead = mirror_url(tmp_path / "no-such-mirror")
    cache = tmp_path / "cache"
    X, y = load_mnist(download=True, cache_dir=cache, checksums=sums,
                      mirrors=[dead, mirror_url(tmp_path / "mirror")])
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    assert leftovers(cache) == sorted(TRAIN)  # no temp files left behind
    # now cached: no mirror needed any more
    X2, _ = load_mnist(cache_dir=cache, checksums=sums, mirrors=[])
    np.testing.assert_array_equal(X2, images)


def test_download_fetches_only_missing_files(tmp_path):
    images, labels, sums = write_set(tmp_path / "cache")
    (tmp_path / "cache" / TRAIN[1]).rename(tmp_path / "labels.gz")
    (tmp_path / "mirror").mkdir()
    (tmp_path / "labels.gz").rename(tmp_path / "mirror" / TRAIN[1])
    X, y = load_mnist(download=True, cache_dir=tmp_path / "cache", checksums=sums,
                      mirrors=[mirror_url(tmp_path / "mirror")])
    np.testing.assert_array_equal(X, images)  # the mirror has no images file
    np.testing.assert_array_equal(y, labels)


def test_download_with_all_mirrors_failing_lists_them(tmp_path):
    mirrors = [mirror_url(tmp_path / "dead1"), mirror_url(tmp_path / "dead2")]
    with pytest.raises(DownloadError) as info:
        load_mnist(download=True, cache_dir=tmp_path / "cache", mirrors=mirrors)
    message = str(info.value)
    for base in mirrors:
        assert base + TRAIN[0] in message
    assert str(tmp_path / "cache") in message
    assert leftovers(tmp_path / "cache") == []


def test_download_checksum_failure_leaves_no_partial_file(tmp_path):
    _, _, sums = write_set(tmp_path / "mirror")
    wrong = {name: ("sha256", "f" * 64) for name in sums}
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match="corrupt"):
        load_mnist(download=True, cache_dir=cache, checksums=wrong,
                   mirrors=[mirror_url(tmp_path / "mirror")])
    assert leftovers(cache) == []


def test_download_skips_a_mirror_with_a_corrupt_copy(tmp_path):
    images, _, sums = write_set(tmp_path / "good", seed=1)
    write_set(tmp_path / "bad", seed=2)  # same names, other bytes
    cache = tmp_path / "cache"
    X, _ = load_mnist(download=True, cache_dir=cache, checksums=sums,
                      mirrors=[mirror_url(tmp_path / "bad"), mirror_url(tmp_path / "good")])
    np.testing.assert_array_equal(X, images)
    assert leftovers(cache) == sorted(TRAIN)


def test_download_goes_to_path_when_path_is_given(tmp_path):
    images, _, sums = write_set(tmp_path / "mirror")
    target = tmp_path / "my-data"
    load_mnist(path=target, download=True, checksums=sums,
               mirrors=[mirror_url(tmp_path / "mirror")])
    assert leftovers(target) == sorted(TRAIN)
    assert os.path.getsize(target / TRAIN[0]) == os.path.getsize(tmp_path / "mirror" / TRAIN[0])


def test_default_mirrors_are_https():
    assert mnist.MNIST_MIRRORS and all(m.startswith("https://") for m in mnist.MNIST_MIRRORS)
