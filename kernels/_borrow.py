"""Owner-less array views for the hot loops (no reference counting).

Numba counts references to every array it sees: each view (``W =
params[a:b].reshape(...)``, ``Z[i]``) and each array argument of a call gets
an atomic increment and decrement of its owner's count. In the playground
workload (a 2-8-8-1 network, 10-row batches) that was 36% of the training
time, measured with ``perf`` (``NRT_incref``/``NRT_decref``): about 200
atomic pairs per batch.

:func:`borrow` gives the same array with no owner (a NULL meminfo), so views
of it skip the counting. The kernels borrow their arguments once at the top of
each entry point; the caller keeps the real arrays alive for the whole call,
and no borrowed array is ever returned to Python or stored.
"""

from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["borrow"]


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
