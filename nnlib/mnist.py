"""MNIST: read IDX files, verify them, and download them on request.

The IDX format (http://yann.lecun.com/exdb/mnist/) is a 4-byte magic number
``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 dimensions,
then the values in C order. MNIST images are magic 0x00000803 (uint8, 3-D:
n x 28 x 28) and labels 0x00000801 (uint8, 1-D: n). Files may be gzipped.

Where the files are looked for: ``path`` if given, else the cache folder:
``cache_dir`` if given, else the environment variable ``NNLIB_DATA_DIR``,
else ``~/.cache/nnlib/mnist``. ``download=True`` fetches missing files into
that folder from :data:`MNIST_MIRRORS`. MNIST is the larger step up from
the 8x8 digits of ``notebooks/05_digits.ipynb``; re-exported by
:mod:`nnlib.data`.
"""
import gzip
import hashlib
import http.client
import os
import pathlib
import tempfile
import urllib.request

import numpy as np

__all__ = ["load_mnist", "parse_idx", "ChecksumError", "DownloadError",
           "MNIST_FILES", "MNIST_CHECKSUMS", "MNIST_MIRRORS"]

MNIST_FILES = {  # kind -> (images, labels), the standard gzipped names
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# (algorithm, hex digest) of the original files, as torchvision checks them.
MNIST_CHECKSUMS = {
    "train-images-idx3-ubyte.gz": ("md5", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train-labels-idx1-ubyte.gz": ("md5", "d53e105ee54ea40749a09fcbcd1e9432"),
    "t10k-images-idx3-ubyte.gz": ("md5", "9fb629c4189551a2d022fa330f9573f3"),
    "t10k-labels-idx1-ubyte.gz": ("md5", "ec29112dd5afa0611ce80d1b7f02629c"),
}
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_TIMEOUT_S = 60


class ChecksumError(ValueError):
    """A data file's checksum differs from the known one: the file is corrupt."""


class DownloadError(OSError):
    """No mirror delivered a good copy of a file."""


# ---------------------------------------------------------------- IDX
def _read_source(path_or_bytes):
    """Return (raw bytes, name for messages)."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes), "<bytes>"
    path = pathlib.Path(path_or_bytes)
    return path.read_bytes(), str(path)


def _gunzip(raw, name):
    if raw[:2] != b"\x1f\x8b":  # not gzipped
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{name} is not a valid gzip file ({exc}); it is probably "
                         f"truncated: delete it and download it again.") from None


def _parse_idx_bytes(data, name):
    """Parse unzipped IDX bytes; return (magic number, array)."""
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{name} is not an IDX file: bad magic number "
                         f"0x{data[:4].hex():0>8}; expected 0x000008NN (e.g. 0x00000803).")
    dtype, ndim = np.dtype(_IDX_DTYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name} is truncated: its header needs {header} bytes, "
                         f"the file has {len(data)}.")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "too long"
        raise ValueError(f"{name} is {problem}: header shape {shape} needs {expected} "
                         f"bytes, the file has {len(data)}. Delete it and download it again.")
    values = np.frombuffer(data, dtype, offset=header).reshape(shape)
    magic = int.from_bytes(data[:4], "big")
    return magic, values.astype(dtype.newbyteorder("="))  # writable, native order


def parse_idx(path_or_bytes):
    """Parse an IDX file (raw or gzipped) into a NumPy array.

    ``path_or_bytes`` is a file path or the file's bytes. The header's
    dimensions give the shape, e.g. (n, 28, 28) for MNIST images and (n,)
    for labels; the dtype is the native-endian version of the IDX type
    (uint8 for MNIST). Raises ValueError, naming the file, for a bad magic
    number, an unknown type code, or a truncated / over-long file.
    """
    raw, name = _read_source(path_or_bytes)
    return _parse_idx_bytes(_gunzip(raw, name), name)[1]


def _parse_mnist_file(path, magic):
    """Parse one MNIST file, insisting on the images or labels magic number."""
    raw, name = _read_source(path)
    found, values = _parse_idx_bytes(_gunzip(raw, name), name)
    if found != magic:
        what = "images" if magic == IMAGES_MAGIC else "labels"
        raise ValueError(f"{path} has magic number 0x{found:08x}, but MNIST {what} "
                         f"files have 0x{magic:08x}; is it the right file?")
    return values


# ---------------------------------------------------------------- checksums
def _digest(path, algorithm):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path, checksums, shown_name=None):
    """Raise ChecksumError if ``path``'s name is in ``checksums`` and the digest differs."""
    path = pathlib.Path(path)
    name = shown_name or path.name
    if name not in checksums:
        return
    algorithm, expected = checksums[name]
    actual = _digest(path, algorithm)
    if actual != expected:
        raise ChecksumError(
            f"{path} is corrupt: its {algorithm} is {actual}, expected {expected}. "
            f"Delete it and download it again (load_mnist(download=True))."
        )


# ---------------------------------------------------------------- download
def _fetch(url, folder, filename, checksums):
    """Download ``url`` to a temp file in ``folder``, verify, rename atomically."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
        _verify(tmp, checksums, shown_name=filename)
        os.replace(tmp, folder / filename)  # atomic on one file system
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _download(filename, folder, mirrors, checksums):
    """Try each mirror in turn; raise DownloadError listing every failure."""
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        try:
            _fetch(url, folder, filename, checksums)
            return folder / filename
        except (OSError, http.client.HTTPException, ValueError) as exc:
            failures.append(f"  {url}: {exc}")
    raise DownloadError(
        f"could not download {filename} into {folder}; mirrors tried:\n"
        + "\n".join(failures)
        + f"\nCheck your connection, or download it yourself and put it in {folder}."
    )


# ---------------------------------------------------------------- loader
def _data_folder(path, cache_dir):
    if path is not None:
        return pathlib.Path(path).expanduser()
    if cache_dir is not None:
        return pathlib.Path(cache_dir).expanduser()
    if os.environ.get("NNLIB_DATA_DIR"):
        return pathlib.Path(os.environ["NNLIB_DATA_DIR"]).expanduser()
    return pathlib.Path.home() / ".cache" / "nnlib" / "mnist"


def _find(folder, gz_name):
    """The gzipped file if present, else the unzipped one, else None."""
    for candidate in (folder / gz_name, folder / gz_name[:-3]):
        if candidate.is_file():
            return candidate
    return None


def _missing_message(folder, missing):
    names = ", ".join(missing)
    return (f"MNIST file(s) missing: {names} (looked in {folder}). Put them in that "
            f"folder (gzipped or unzipped), pass path= or cache_dir= (or set "
            f"NNLIB_DATA_DIR) to the folder that holds them, or call "
            f"load_mnist(download=True) to fetch them.")


def load_mnist(path=None, download=False, kind="train", cache_dir=None,
               mirrors=None, checksums=None):
    """Load the MNIST handwritten digits (28x28 grey images, 10 classes).

    ``kind`` is "train" (60000 images) or "test" (10000). Returns ``X`` uint8
    (n, 28, 28) with pixels 0..255 and ``y`` int64 (n,) with digits 0..9.
    Files are verified against :data:`MNIST_CHECKSUMS` (or ``checksums``, a
    dict name -> (algorithm, hex digest)) when their name is listed there.
    ``mirrors`` (default :data:`MNIST_MIRRORS`) are base URLs for
    ``download=True``. Raises FileNotFoundError naming the missing files and
    the folder searched, ChecksumError for a corrupt file, ValueError for a
    malformed one, DownloadError when no mirror works.
    """
    if kind not in MNIST_FILES:
        raise ValueError(f"unknown kind {kind!r}; choose 'train' or 'test'.")
    folder = _data_folder(path, cache_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; pass the folder that holds the MNIST files.")
    mirrors = MNIST_MIRRORS if mirrors is None else mirrors
    checksums = MNIST_CHECKSUMS if checksums is None else checksums
    found = {name: _find(folder, name) for name in MNIST_FILES[kind]}
    missing = [name for name, where in found.items() if where is None]
    if missing and not download:
        raise FileNotFoundError(_missing_message(folder, missing))
    for name in missing:
        found[name] = _download(name, folder, mirrors, checksums)
    images_file, labels_file = (found[name] for name in MNIST_FILES[kind])
    for file in (images_file, labels_file):
        _verify(file, checksums)
    X = _parse_mnist_file(images_file, IMAGES_MAGIC)  # (n, 28, 28)
    y = _parse_mnist_file(labels_file, LABELS_MAGIC).astype(np.int64)  # (n,)
    if len(X) != len(y):
        raise ValueError(f"{images_file} holds {len(X)} images but {labels_file} holds "
                         f"{len(y)} labels; one of them is the wrong file.")
    return X, y
