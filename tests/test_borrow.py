"""The owner-less array views of the hot loops (kernels/cpu/views.py)."""

import sys
import weakref

import numpy as np
from fastmlp.kernels import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES, cpu
from fastmlp.kernels.cpu import as_matrix, borrow, flat_rows
from numba import njit

TANH = ACTIVATION_CODES["tanh"]
IDENTITY = ACTIVATION_CODES["identity"]
SQUARED = LOSS_CODES["squared_error"]
ADAM = SOLVER_CODES["adam"]


@njit
def _write_through_views(a):
    b = borrow(a)
    v = b[1:].reshape((2, 2))
    v[1, 0] = 7.0
    return b[3] + a.shape[0]


def test_borrowed_views_share_the_data():
    a = np.zeros(5)
    before = sys.getrefcount(a)
    assert _write_through_views(a) == 12.0
    assert a[3] == 7.0
    assert sys.getrefcount(a) == before


def test_training_and_prediction_leave_reference_counts_alone():
    # The kernels borrow their arguments: no reference may be lost or kept.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((37, 3))
    Y = rng.standard_normal((37, 2))
    sizes = np.array([3, 5, 2], dtype=np.int64)
    n_params = 3 * 5 + 5 * 2 + 5 + 2
    params = rng.standard_normal(n_params) * 0.3
    arrays = dict(
        X=X,
        Y=Y,
        sw=np.empty(0),
        idx=np.arange(37, dtype=np.int64),
        params=params,
        grads=np.zeros(n_params),
        m=np.zeros(n_params),
        v=np.zeros(n_params),
        step=np.zeros(1, dtype=np.int64),
        act=np.empty(8 * 10),
        delta=np.empty(8 * 10),
        hyper=np.array([1e-3, 0.9, 1.0, 0.9, 0.999, 1e-8, 1e-4, 0.0]),
        out=np.empty((37, 2)),
    )
    counts = {k: sys.getrefcount(a) for k, a in arrays.items()}
    a = arrays
    for epoch in range(3):
        loss = cpu.train_epoch(
            a["X"], a["Y"], a["sw"], a["idx"], epoch, a["params"], a["grads"],
            sizes, TANH, IDENTITY, SQUARED, 8, ADAM, a["hyper"],
            a["m"], a["v"], a["step"], a["act"], a["delta"],
        )  # fmt: skip
        assert np.isfinite(loss)
    cpu.forward(a["X"], a["params"], sizes, TANH, IDENTITY, a["out"])
    assert np.isfinite(a["out"]).all()
    assert a["step"][0] == 3 * 5
    assert {k: sys.getrefcount(x) for k, x in arrays.items()} == counts


@njit
def _views(buf, mat):
    m = as_matrix(buf, 2, 3, 2)  # buf[2:8] as 3 x 2
    m[1, 1] = -1.0
    f = flat_rows(mat, 1, 3)  # rows 1 and 2 of mat, flat
    f[0] = 42.0
    return m.shape[0] * 10 + m.shape[1], f.shape[0], m[2, 0], f[f.shape[0] - 1]


def test_matrix_and_flat_views_share_data_and_count_references():
    buf = np.arange(10.0)
    mat = np.arange(12.0).reshape(4, 3)
    counts = sys.getrefcount(buf), sys.getrefcount(mat)
    for _ in range(3):
        shape, flat_len, m20, f_last = _views(buf, mat)
    assert (shape, flat_len) == (32, 6)
    assert m20 == 6.0 and f_last == 8.0
    assert buf[5] == -1.0 and mat[1, 0] == 42.0
    assert (sys.getrefcount(buf), sys.getrefcount(mat)) == counts
    # the views kept no reference: the arrays are freed with their last name
    ref = weakref.ref(buf)
    del buf
    assert ref() is None
