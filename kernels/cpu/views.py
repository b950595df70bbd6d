"""Owner-less array views for the hot loops, stack vectors, lane operations,
and the host/device identities.

``borrow``, ``as_matrix`` and ``flat_rows`` are intrinsics: views without
reference counting and without calls into numba's runtime. ``local_vector``,
``lanes_axpy`` and ``lanes_copy`` give the narrow epoch explicit vector code
on a compile-time number of lanes.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
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


@intrinsic
def as_readonly(typingctx, arr):
    """``arr`` typed read-only: the same array, another numba type.

    A helper compiled once per signature (an overload) and called with a
    read-only array from one kernel and a writeable one from another compiles
    twice; passing both read-only makes it once.
    """
    if not isinstance(arr, types.Array):
        return None
    readonly = arr.copy(readonly=True)
    sig = readonly(arr)

    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, readonly, args[0])

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


@intrinsic
def local_vector(typingctx, dtype, size):
    """A 1-D array of ``size`` (a compile-time integer) items on the stack.

    Uninitialised scratch for accumulators: stack memory that nothing else
    can point to, so LLVM keeps its items in registers across a loop that
    also writes other arrays (an accumulator in an argument array is stored
    back on every iteration, since it might alias the arrays read). Valid
    until the function that calls this returns; never return it.
    """
    if not isinstance(size, types.IntegerLiteral):
        return None  # numba retries with the literal type
    n = size.literal_value
    arrty = types.Array(dtype.dtype, 1, "C")
    sig = arrty(dtype, size)

    def codegen(context, builder, signature, args):
        item_ty = context.get_data_type(dtype.dtype)
        data = cgutils.alloca_once(builder, item_ty, size=n)
        out = context.make_array(arrty)(context, builder)
        intp = context.get_value_type(types.intp)
        item = context.get_abi_sizeof(item_ty)
        out.data = data
        out.nitems = ir.Constant(intp, n)
        out.itemsize = ir.Constant(intp, item)
        out.shape = cgutils.pack_array(builder, [ir.Constant(intp, n)])
        out.strides = cgutils.pack_array(builder, [ir.Constant(intp, item)])
        out.meminfo = cgutils.get_null_value(out.meminfo.type)
        out.parent = cgutils.get_null_value(out.parent.type)
        return out._getvalue()

    return sig, codegen


@intrinsic
def lanes_axpy(typingctx, acc, s, x, size):
    """``acc[:size] += s * x[:size]`` as one vector multiply-add, unchecked.

    ``size`` is a compile-time integer (the lane count), ``acc`` and ``x``
    1-D arrays of the same dtype holding at least ``size`` contiguous items,
    ``s`` a scalar. One broadcast, two vector loads, a fused multiply-add and
    a vector store: loops over a few lanes that LLVM leaves scalar (the
    accumulator is live across the enclosing loop, so nothing seeds its
    vectoriser) become single instructions.
    """
    if not isinstance(size, types.IntegerLiteral):
        return None  # numba retries with the literal type
    n = size.literal_value
    sig = types.none(acc, s, x, size)

    def codegen(context, builder, signature, args):
        item_ty = context.get_data_type(acc.dtype)
        vec_ty = ir.VectorType(item_ty, n)
        align = context.get_abi_sizeof(item_ty)
        dst = builder.bitcast(
            context.make_array(acc)(context, builder, value=args[0]).data,
            vec_ty.as_pointer(),
        )
        src = builder.bitcast(
            context.make_array(x)(context, builder, value=args[2]).data,
            vec_ty.as_pointer(),
        )
        scalar = context.cast(builder, args[1], s, acc.dtype)
        one = builder.insert_element(
            ir.Constant(vec_ty, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0)
        )
        splat = builder.shuffle_vector(
            one,
            ir.Constant(vec_ty, ir.Undefined),
            ir.Constant(ir.VectorType(ir.IntType(32), n), [0] * n),
        )
        suffix = f"v{n}f{8 * align}"
        fma = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(vec_ty, [vec_ty] * 3),
            f"llvm.fma.{suffix}",
        )
        total = builder.call(
            fma, [splat, builder.load(src, align=align), builder.load(dst, align=align)]
        )
        builder.store(total, dst, align=align)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def lanes_copy(typingctx, dst, src, size):
    """``dst[:size] = src[:size]`` as one vector load and store, unchecked.

    ``size`` is a compile-time integer; both 1-D arrays of one dtype hold at
    least ``size`` contiguous items.
    """
    if not isinstance(size, types.IntegerLiteral):
        return None  # numba retries with the literal type
    n = size.literal_value
    sig = types.none(dst, src, size)

    def codegen(context, builder, signature, args):
        item_ty = context.get_data_type(dst.dtype)
        vec_ptr = ir.VectorType(item_ty, n).as_pointer()
        align = context.get_abi_sizeof(item_ty)
        to = builder.bitcast(
            context.make_array(dst)(context, builder, value=args[0]).data, vec_ptr
        )
        frm = builder.bitcast(
            context.make_array(src)(context, builder, value=args[1]).data, vec_ptr
        )
        builder.store(builder.load(frm, align=align), to, align=align)
        return context.get_dummy_value()

    return sig, codegen
