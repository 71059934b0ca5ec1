"""CPU atomics for ``@njit(nogil=True)`` kernels, as Numba intrinsics emitting LLVM atomics.

Numba has no CPU atomics, so each operation here is a :func:`numba.extending.intrinsic` that
emits one LLVM instruction on the address of ``a[i]`` (a C-contiguous 1-D array):

=======================  =====================================  ==========================================
function                 LLVM                                   used for
=======================  =====================================  ==========================================
``fetch_add_f64``        ``atomicrmw fadd seq_cst``             HOGWILD! atomic mode: x_v += g_v (a
                                                                ``lock cmpxchg`` loop on x86)
``fetch_add_i64``        ``atomicrmw add seq_cst``              the global ticket counter, the sample
                                                                counter k
``cas_i64``              ``cmpxchg seq_cst seq_cst``            spinlocks (0 free, 1 held)
``load_i64`` /           ``load atomic acquire`` /              reading a lock, the stop flag
``store_i64``            ``store atomic release``               releasing a lock
``load_f64_relaxed`` /   ``load atomic monotonic`` /            the racy mode's plain load and store, and
``store_f64_relaxed``    ``store atomic monotonic``             every read of x̂: a relaxed access compiles
                                                                to a plain ``mov`` on x86, but LLVM may not
                                                                keep the cell in a register across a loop,
                                                                so what the hardware does is what happens
``prefetch``             ``llvm.prefetch`` (read, keep)         a hint to fetch a cell's cache line early:
                                                                the next samples' rows (no value is read,
                                                                no order is implied)
=======================  =====================================  ==========================================

Each returns the value the cell held before (the RMWs) or the value read.  No bounds are
checked: callers index inside the array.  The seq_cst RMWs are also full fences on x86, which
is what makes a ticket drawn before and after an access bracket that access (``recorder``).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _element(context, builder, sig, args):
    """A pointer to ``a[i]``, the intrinsic's first two arguments (the index cast to intp)."""
    arrty = sig.args[0]
    ary = context.make_array(arrty)(context, builder, args[0])
    i = context.cast(builder, args[1], sig.args[1], types.intp)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [i], wraparound=False)


def _value(context, builder, sig, args, k: int, dtype):
    """The intrinsic's k-th argument as ``dtype``."""
    return context.cast(builder, args[k], sig.args[k], dtype)


def _check(arr, dtype):
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == dtype


def _named(fn, name: str, doc: str):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return intrinsic(fn)


def _fetch_add(op: str, dtype, name: str):
    """The intrinsic ``name(a, i, v)``: ``old = a[i]; a[i] = old + v`` as one ``atomicrmw op seq_cst``."""
    def fetch_add(typingctx, arr, idx, val):
        if not (_check(arr, dtype) and isinstance(idx, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            return builder.atomic_rmw(op, _element(context, builder, sig, args),
                                      _value(context, builder, sig, args, 2, dtype), "seq_cst")
        return dtype(arr, idx, dtype), codegen
    return _named(fetch_add, name, "``old = a[i]; a[i] = old + v`` as one atomic step (seq_cst); returns ``old``.")


fetch_add_f64 = _fetch_add("fadd", types.float64, "fetch_add_f64")
fetch_add_i64 = _fetch_add("add", types.int64, "fetch_add_i64")


@intrinsic
def cas_i64(typingctx, arr, idx, expected, new):
    """If ``a[i] == expected`` then ``a[i] = new``, atomically (seq_cst); returns whether it swapped."""
    if not (_check(arr, types.int64) and isinstance(idx, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        pair = builder.cmpxchg(_element(context, builder, sig, args), _value(context, builder, sig, args, 2, types.int64),
                               _value(context, builder, sig, args, 3, types.int64), "seq_cst", "seq_cst")
        return builder.extract_value(pair, 1)
    return types.boolean(arr, idx, types.int64, types.int64), codegen


def _atomic_load(builder, ptr, ty, ordering):
    # llvmlite's load_atomic needs the alignment: a float64/int64 array element is 8-aligned
    return builder.load_atomic(ptr, ordering, 8)


def _load(dtype, llty, ordering: str, name: str, doc: str):
    """The intrinsic ``name(a, i)``: ``a[i]`` read by one ``load atomic ordering``."""
    def load(typingctx, arr, idx):
        if not (_check(arr, dtype) and isinstance(idx, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            return _atomic_load(builder, _element(context, builder, sig, args), llty, ordering)
        return dtype(arr, idx), codegen
    return _named(load, name, doc)


def _store(dtype, ordering: str, name: str, doc: str):
    """The intrinsic ``name(a, i, v)``: ``a[i] = v`` by one ``store atomic ordering``."""
    def store(typingctx, arr, idx, val):
        if not (_check(arr, dtype) and isinstance(idx, types.Integer)):
            return None

        def codegen(context, builder, sig, args):
            builder.store_atomic(_value(context, builder, sig, args, 2, dtype), _element(context, builder, sig, args),
                                 ordering, 8)
            return context.get_dummy_value()
        return types.none(arr, idx, dtype), codegen
    return _named(store, name, doc)


load_i64 = _load(types.int64, ir.IntType(64), "acquire", "load_i64", "``a[i]`` read with acquire ordering.")
store_i64 = _store(types.int64, "release", "store_i64", "``a[i] = v`` with release ordering (a lock's release).")
load_f64_relaxed = _load(types.float64, ir.DoubleType(), "monotonic", "load_f64_relaxed",
                         "``a[i]``, one relaxed (monotonic) load: a plain load the compiler must really issue.")
store_f64_relaxed = _store(types.float64, "monotonic", "store_f64_relaxed",
                           "``a[i] = v``, one relaxed (monotonic) store: a plain store the compiler must really issue.")


@intrinsic
def prefetch(typingctx, arr, idx):
    """Hint that ``a[i]`` will be read soon (``llvm.prefetch``: read, high locality, data cache): the
    line is fetched while other work goes on.  Not an access: it reads no value and orders nothing."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and isinstance(idx, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(_element(context, builder, sig, args), byte), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.none(arr, idx), codegen
