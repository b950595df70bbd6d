"""The configuration pieces: small C-callable kernels the epochs call by address.

What differs between configurations (the activation of the hidden and output
layers, its derivative, the output loss and its delta) is compiled here as
*pieces*: one small C-callable function per (piece, code, dtype), made on
first use through :func:`fastmlp.kernels._cache.cfunc` and cached on disk.
The whole-network kernels (the epochs, the full-batch loss/gradient, the
prediction pass) are *skeletons* that know no configuration: they take the
pieces' addresses in an int64 array (:func:`piece_addresses`) and call them
through :func:`call_void` / :func:`call_float64`, the way they reach BLAS
through an address (``gemm._xgemm``). A skeleton is compiled once per dtype
and input kind; a new configuration compiles only the pieces it has not met
(0.05-0.3 s each), and the skeletons' cached code does not depend on them.

A call through an address costs a few nanoseconds; each piece works on a
whole batch (a layer's ``m x n`` block), so an epoch makes four to six such
calls per batch. The one exception is the narrow epoch (networks at most 8
units wide, batches of ~10 rows), where those calls measured 7% of a
playground fit: it applies its hidden activation and derivative itself,
behind one run-time switch per layer and batch (the four hidden activations
compile into it once), and calls pieces for the output and the loss only.
The solver and the L1 switch are run-time branches inside the skeletons:
their code is small and compiles with the skeleton, once.

Every piece's signature (``P`` is a pointer to float32 or float64, all
matrices C-contiguous):

=================  ============================================================
``activation``     ``void(P x, P y, i64 m, i64 n, i64 mode)``. ``mode`` 0
                   (forward): ``Z[m, n] = f(Z + b)`` with ``x = Z``, ``y = b[n]``;
                   ``mode`` 1 (backward): ``D[m, n] *= f'(.)`` written with the
                   activation's output, ``x = A[m, n]``, ``y = D``. One piece
                   per activation holds both (one compile, not two).
``output_delta``   ``f64(P out, P Y, P sw, P D, i64 m, i64 n, i64 n_sw)``:
                   ``D = (out - Y) * sw``, returns ``sum_i sw_i loss_i``
                   (``n_sw`` is ``m``, or 0 for unweighted)
``optimizer``      ``f64(P params, P grads, P m, P v, i64 n, i64 n_coef, P hyper,
                   i64 t)``: one SGD or Adam step (step number ``t``) over the
                   ``n`` parameters, ``hyper`` as ``train_epoch``'s; returns the
                   L2 sum ``sum(params[:n_coef] ** 2)`` after it
=================  ============================================================
"""

import threading

import numpy as np
from llvmlite import ir
from numba import carray, types
from numba.extending import intrinsic

from .. import ACTIVATION_CODES, LOSS_CODES, SOLVER_CODES
from .._cache import cfunc
from ._common import ADAM, IDENTITY, JIT_OPTIONS
from .layers import _bias_activate_rows, _derivative_rows
from .losses import output_delta_rows
from .optimizers import adam_update, sgd_update

#: The ``mode`` argument of an activation piece.
FORWARD, BACKWARD = 0, 1
#: Rows per block of the forward mode: the bias is added and the activation
#: applied while the block is in L1 (for activations not fused with the bias).
BLOCK_ROWS = 8

_NUMBA_DTYPES = {"float32": types.float32, "float64": types.float64}


def _activation(code, dtype):
    ptr = types.CPointer(dtype)

    @cfunc(types.void(ptr, ptr, types.int64, types.int64, types.int64), **JIT_OPTIONS)
    def activation(x, y, m, n, mode):
        if mode == FORWARD:
            Z = carray(x, (m, n))
            bias = carray(y, (n,))
            for i0 in range(0, m, BLOCK_ROWS):
                i1 = i0 + BLOCK_ROWS if i0 + BLOCK_ROWS < m else m
                _bias_activate_rows(Z, bias, i0, i1, code)
        else:
            A = carray(x, (m, n))
            D = carray(y, (m, n))
            _derivative_rows(A, D, np.int64(0), m, code)

    return activation


def _output_delta(code, dtype):
    ptr = types.CPointer(dtype)
    i64 = types.int64

    @cfunc(types.float64(ptr, ptr, ptr, ptr, i64, i64, i64), **JIT_OPTIONS)
    def output_delta(out, y, sw, d, m, n, n_sw):
        return output_delta_rows(
            carray(out, (m, n)),
            carray(y, (m, n)),
            carray(sw, (n_sw,)),
            code,
            carray(d, (m, n)),
        )

    return output_delta


def _optimizer(code, dtype):
    ptr = types.CPointer(dtype)
    i64 = types.int64

    @cfunc(types.float64(ptr, ptr, ptr, ptr, i64, i64, ptr, i64), **JIT_OPTIONS)
    def optimizer(params, grads, m, v, n, n_coef, hyper, t):
        p = carray(params, (n,))
        g = carray(grads, (n,))
        h = carray(hyper, (8,))
        if code == ADAM:
            return adam_update(
                p, g, carray(m, (n,)), carray(v, (n,)), t, h[0], h[3], h[4], h[5],
                n_coef,
            )  # fmt: skip
        return float(sgd_update(p, g, carray(m, (n,)), h[0], h[1], h[2] != 0, n_coef))

    return optimizer


_FACTORIES = {
    "activation": _activation,
    "output_delta": _output_delta,
    "optimizer": _optimizer,
}
_MADE = {}
_ADDRESSES = {}
_LOCK = threading.Lock()


def piece(kind, code, dtype):
    """The compiled piece ``kind`` for one code and dtype (made on first use).

    Parameters
    ----------
    kind : {"activation", "output_delta", "optimizer"}
    code : int
        An activation code (``ACTIVATION_CODES``), a loss code
        (``LOSS_CODES``) for ``output_delta``, a solver code (``SOLVER_CODES``)
        for ``optimizer``.
    dtype : numpy dtype or str
        float32 or float64.

    Returns
    -------
    numba CFunc
    """
    name = np.dtype(dtype).name
    key = (kind, int(code), name)
    made = _MADE.get(key)
    if made is None:
        with _LOCK:  # two threads asking at once share one piece
            made = _MADE.get(key)
            if made is None:
                made = _MADE[key] = _FACTORIES[kind](int(code), _NUMBA_DTYPES[name])
    return made


def piece_address(kind, code, dtype):
    """The C address of :func:`piece` (valid for the life of the process)."""
    return piece(kind, code, dtype).address


def piece_addresses(hidden_activation, output_activation, loss, dtype, solver=-1):
    """The int64 array of piece addresses the skeletons take (cached).

    ``[hidden activation, output activation, hidden activation again for its
    derivative (0 for the identity, which has none: the skeletons skip it),
    output_delta, optimizer]`` for this configuration and dtype; the loss's
    is 0 for a ``loss`` of -1 (prediction) and the optimizer's without a
    ``solver`` code (prediction, L-BFGS).
    """
    key = (
        int(hidden_activation),
        int(output_activation),
        int(loss),
        np.dtype(dtype),
        int(solver),
    )
    addresses = _ADDRESSES.get(key)
    if addresses is None:
        hidden, output, loss_code, dt, solver_code = key
        addresses = np.array(
            [
                piece_address("activation", hidden, dt),
                piece_address("activation", output, dt),
                0 if hidden == IDENTITY else piece_address("activation", hidden, dt),
                piece_address("output_delta", loss_code, dt) if loss_code >= 0 else 0,
                piece_address("optimizer", solver_code, dt) if solver_code >= 0 else 0,
            ],
            dtype=np.int64,
        )
        addresses.flags.writeable = False
        _ADDRESSES[key] = addresses
    return addresses


#: Indices into :func:`piece_addresses`' array.
HIDDEN, OUTPUT, DERIVATIVE, OUTPUT_DELTA, OPTIMIZER = 0, 1, 2, 3, 4


def every_piece(dtypes=("float32", "float64")):
    """Compile (or load) every piece for ``dtypes``; returns how many."""
    count = 0
    for dtype in dtypes:
        for code in ACTIVATION_CODES.values():
            piece("activation", code, dtype)
            count += 1
        for code in LOSS_CODES.values():
            piece("output_delta", code, dtype)
            count += 1
        for code in SOLVER_CODES.values():
            piece("optimizer", code, dtype)
            count += 1
    return count


def made_pieces():
    """Every piece made in this process: ``{(kind, code, dtype): CFunc}``."""
    with _LOCK:
        return dict(_MADE)


# --------------------------------------------------------------------------
# calling a piece from compiled code
# --------------------------------------------------------------------------
def _lower_args(context, builder, tuple_type, value):
    """LLVM types and values of a call's arguments: arrays pass their data
    pointer, integers widen to int64, floats pass as they are."""
    lltypes, llvalues = [], []
    for i, ty in enumerate(tuple_type):
        item = builder.extract_value(value, i)
        if isinstance(ty, types.Array):
            array = context.make_array(ty)(context, builder, value=item)
            ptr_type = context.get_value_type(ty.dtype).as_pointer()
            lltypes.append(ptr_type)
            llvalues.append(builder.bitcast(array.data, ptr_type))
        elif isinstance(ty, (types.Integer, types.Boolean)):
            lltypes.append(ir.IntType(64))
            llvalues.append(context.cast(builder, item, ty, types.int64))
        else:
            lltypes.append(context.get_value_type(ty))
            llvalues.append(item)
    return lltypes, llvalues


def _caller(return_type):
    def call(typingctx, address, args):
        if not isinstance(address, types.Integer) or not isinstance(
            args, types.BaseTuple
        ):
            return None
        for ty in args:
            if not isinstance(
                ty, (types.Array, types.Integer, types.Boolean, types.Float)
            ) or (isinstance(ty, types.Array) and ty.layout != "C"):
                return None  # typing error: only C-contiguous arrays and scalars
        sig = return_type(address, args)

        def codegen(context, builder, signature, llargs):
            lltypes, llvalues = _lower_args(context, builder, args, llargs[1])
            llret = (
                ir.VoidType()
                if return_type == types.void
                else context.get_value_type(return_type)
            )
            fnptr = builder.inttoptr(
                context.cast(builder, llargs[0], address, types.int64),
                ir.FunctionType(llret, lltypes).as_pointer(),
            )
            result = builder.call(fnptr, llvalues)
            if return_type == types.void:
                return context.get_dummy_value()
            return result

        return sig, codegen

    call.__name__ = call.__qualname__ = f"call_{return_type}"
    return call


#: ``call_void(address, (args...))``: call a piece that returns nothing.
call_void = intrinsic(_caller(types.void))
#: ``call_float64(address, (args...))``: call a piece that returns a float64.
call_float64 = intrinsic(_caller(types.float64))
