"""Owner-less array views for the hot loops, and the host/device identities.

``borrow``, ``as_matrix`` and ``flat_rows`` are intrinsics: views without
reference counting and without calls into numba's runtime.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._cache import njit


# Numba counts references to every array it sees: each view (``W =
# params[a:b].reshape(...)``, ``Z[i]``) and each array argument of a call gets
# an atomic increment and decrement of its owner's count. In the playground
# workload (a 2-8-8-1 network, 10-row batches) that was 36% of the training
# time, measured with ``perf`` (``NRT_incref``/``NRT_decref``): about 200
# atomic pairs per batch.
#
# :func:`borrow` gives the same array with no owner (a NULL meminfo), so views
# of it skip the counting. The kernels borrow their arguments once at the top of
# each entry point; the caller keeps the real arrays alive for the whole call,
# and no borrowed array is ever returned to Python or stored.
@intrinsic
def borrow(typingctx, arr):
    """``arr`` as an owner-less array: same data, shape and strides.

    Only for an array that outlives every use of the result inside the
    compiled call (an argument of the entry point, or a local the entry point
    holds).
    """
    sig = arr(arr)

    def codegen(context, builder, signature, args):
        src = context.make_array(arr)(context, builder, value=args[0])
        out = context.make_array(arr)(context, builder)
        for name in ("data", "nitems", "itemsize", "shape", "strides"):
            setattr(out, name, getattr(src, name))
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return sig, codegen


@njit(cache=True)
def _keep_alive(*arrays):
    """Nothing; a use of ``arrays`` here keeps them alive up to this point.

    numba frees an array after its last use, so a function that borrows
    arrays it allocated calls this after the last use of the borrowed views.
    """


def _struct_view(context, builder, arrty, src, data, shape, strides):
    """A new array struct sharing ``src``'s owner with this data and shape."""
    out = context.make_array(arrty)(context, builder)
    intp = context.get_value_type(types.intp)
    nitems = ir.Constant(intp, 1)
    for d in shape:
        nitems = builder.mul(nitems, d)
    context.populate_array(
        out,
        data=data,
        shape=cgutils.pack_array(builder, shape),
        strides=cgutils.pack_array(builder, strides),
        itemsize=src.itemsize,
        meminfo=src.meminfo,
        parent=src.parent,
    )
    value = out._getvalue()
    # A returned array is a new reference (free, no-op, for a borrowed one).
    context.nrt.incref(builder, arrty, value)
    return value


@intrinsic
def as_matrix(typingctx, buf, start, rows, cols):
    """``as_matrix(buf, start, rows, cols)``, unchecked.

    ``buf`` is a C-contiguous 1-D array; the caller guarantees the range is
    inside it. Unlike ``reshape`` there is no call into numba's runtime.
    """
    arrty = types.Array(buf.dtype, 2, "C")
    sig = arrty(buf, types.intp, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        src = context.make_array(buf)(context, builder, value=args[0])
        start_, rows_, cols_ = args[1], args[2], args[3]
        data = cgutils.gep_inbounds(builder, src.data, start_)
        item = src.itemsize
        return _struct_view(
            context, builder, arrty, src, data, [rows_, cols_],
            [builder.mul(cols_, item), item],
        )  # fmt: skip

    return sig, codegen


@intrinsic
def flat_rows(typingctx, mat, i0, i1):
    """Rows ``i0:i1`` of a C-contiguous 2-D ``mat`` as one 1-D view, unchecked."""
    arrty = types.Array(mat.dtype, 1, "C")
    sig = arrty(mat, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        src = context.make_array(mat)(context, builder, value=args[0])
        i0_, i1_ = args[1], args[2]
        cols = builder.extract_value(src.shape, 1)
        data = cgutils.gep_inbounds(builder, src.data, builder.mul(i0_, cols))
        count = builder.mul(builder.sub(i1_, i0_), cols)
        return _struct_view(context, builder, arrty, src, data, [count], [src.itemsize])

    return sig, codegen


# --------------------------------------------------------------------------
# host <-> device (the CPU's memory is the host's: identities)
# --------------------------------------------------------------------------
def to_device(host_array):
    """The array itself: the CPU backend works on host arrays."""
    return host_array


def to_host(device_array):
    """The array itself: the CPU backend works on host arrays."""
    return device_array
