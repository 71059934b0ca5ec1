"""The reference's keyed draw, restated so that a Numba kernel can make it.

:func:`asyncproof.reference.rng.draw_batch` with ``b = 1`` is
``Generator(PCG64(SeedSequence([seed, stream, k]))).integers(0, m)``: SGD's draw of iteration
k, and HOGWILD!'s s_k.  :func:`keyed_index` computes the same integer, bit for bit, from the
algorithms numpy documents and implements (``numpy/random/bit_generator.pyx``, ``pcg64.h``,
``distributions.c``), so a fast run draws exactly the samples a replay by the reference draws:

* ``SeedSequence``: the entropy words (each key value split into 32-bit words, low first; 0 is
  one word) are hashed into a pool of 4 uint32 (``hashmix``/``mix``), and ``generate_state(4,
  uint64)`` hashes the pool into 8 uint32 read as 4 little-endian uint64;
* ``PCG64``: 128-bit LCG, state seeded as ``srandom(initstate = s0:s1, initseq = s2:s3)``,
  output XSL-RR; ``next_uint32`` hands out the low half of a 64-bit output, then the high half;
* ``integers(0, m)`` for ``m - 1 < 2**32 - 1``: Lemire's bounded rejection on 32-bit words.

``tests/differential/test_hogwild.py`` checks it against ``draw_batch`` over many keys; it
refuses (``InputError``) keys and ranges outside what it restates.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from asyncproof.reference.errors import InputError

_M32 = np.uint64(0xFFFFFFFF)
_INIT_A = np.uint64(0x43B0D7E5)
_MULT_A = np.uint64(0x931E8875)
_INIT_B = np.uint64(0x8B51F9DD)
_MULT_B = np.uint64(0x58F38DED)
_MIX_L = np.uint64(0xCA01F9DD)
_MIX_R = np.uint64(0x4973F715)
_S16 = np.uint64(16)
_S32 = np.uint64(32)
_S58 = np.uint64(58)
_S63 = np.uint64(63)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
# PCG's default 128-bit multiplier 0x2360ed051fc65da44385df649fccf645
_MUL_HI = np.uint64(0x2360ED051FC65DA4)
_MUL_LO = np.uint64(0x4385DF649FCCF645)


def _kernel(fn):
    return njit(cache=True, nogil=True)(fn)


@_kernel
def _mul64(a, b):
    """``(hi, lo)`` of the 128-bit product of two uint64 (schoolbook on 32-bit halves)."""
    a0 = a & _M32
    a1 = a >> _S32
    b0 = b & _M32
    b1 = b >> _S32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> _S32) + (p01 & _M32) + (p10 & _M32)
    lo = (p00 & _M32) | ((mid & _M32) << _S32)
    hi = p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)
    return hi, lo


@_kernel
def _step(shi, slo, ihi, ilo):
    """One LCG step: state * MUL + inc (mod 2**128)."""
    hi, lo = _mul64(slo, _MUL_LO)
    hi = hi + slo * _MUL_HI + shi * _MUL_LO
    nlo = lo + ilo
    carry = _ONE if nlo < lo else _ZERO
    return hi + ihi + carry, nlo


@_kernel
def _output(shi, slo):
    """XSL-RR: rotate (hi ^ lo) right by the top 6 bits of the state."""
    v = shi ^ slo
    r = shi >> _S58
    return (v >> r) | (v << ((np.uint64(64) - r) & _S63))


@_kernel
def _hashmix(value, h):
    value = (value ^ h) & _M32
    h = (h * _MULT_A) & _M32
    value = (value * h) & _M32
    value ^= value >> _S16
    return value, h


@_kernel
def _mix(x, y):
    r = (_MIX_L * x - _MIX_R * y) & _M32
    r ^= r >> _S16
    return r


@_kernel
def keyed_index(words, m):
    """The integer ``draw_batch(seed, k, m, 1)[0]`` for the entropy ``words`` (uint64 array holding
    the 32-bit words of ``[seed, stream, k]``, see :func:`entropy_words`), ``1 <= m <= 2**32 - 1``."""
    pool = np.empty(4, dtype=np.uint64)
    h = _INIT_A
    for i in range(4):
        w = words[i] if i < words.shape[0] else _ZERO
        pool[i], h = _hashmix(w, h)
    for src in range(4):
        for dst in range(4):
            if src != dst:
                t, h = _hashmix(pool[src], h)
                pool[dst] = _mix(pool[dst], t)
    for src in range(4, words.shape[0]):
        for dst in range(4):
            t, h = _hashmix(words[src], h)
            pool[dst] = _mix(pool[dst], t)
    state = np.empty(8, dtype=np.uint64)
    hb = _INIT_B
    for i in range(8):
        v = (pool[i % 4] ^ hb) & _M32
        hb = (hb * _MULT_B) & _M32
        v = (v * hb) & _M32
        v ^= v >> _S16
        state[i] = v
    s0 = state[0] | (state[1] << _S32)
    s1 = state[2] | (state[3] << _S32)
    q0 = state[4] | (state[5] << _S32)
    q1 = state[6] | (state[7] << _S32)
    # srandom: inc = (initseq << 1) | 1; state = 0; step; state += initstate; step
    ihi = (q0 << _ONE) | (q1 >> _S63)
    ilo = (q1 << _ONE) | _ONE
    shi, slo = _step(_ZERO, _ZERO, ihi, ilo)
    nlo = slo + s1
    shi = shi + s0 + (_ONE if nlo < slo else _ZERO)
    shi, slo = _step(shi, nlo, ihi, ilo)
    rng = np.uint64(m - 1)
    if rng == _ZERO:
        return 0
    excl = rng + _ONE
    have_high = False
    high = _ZERO
    while True:
        if have_high:
            u = high
            have_high = False
        else:
            shi, slo = _step(shi, slo, ihi, ilo)
            out = _output(shi, slo)
            u = out & _M32
            high = out >> _S32
            have_high = True
        prod = u * excl
        leftover = prod & _M32
        if leftover >= excl:
            return np.int64(prod >> _S32)
        threshold = (_M32 - rng) % excl
        if leftover >= threshold:
            return np.int64(prod >> _S32)


def _words(n: int) -> list[int]:
    if n == 0:
        return [0]
    out = []
    while n > 0:
        out.append(n & 0xFFFFFFFF)
        n >>= 32
    return out


def entropy_words(seed: int, stream: int, k: int) -> np.ndarray:
    """The 32-bit words SeedSequence makes of the key ``[seed, stream, k]``, as a uint64 array."""
    return np.array(_words(seed) + _words(stream) + _words(k), dtype=np.uint64)


@_kernel
def keyed_indices(prefix, ks, m, out):
    """``out[q] = draw_batch(seed, ks[q], m, 1)[0]`` for keys whose seed and stream give the word
    ``prefix`` and ``ks[q] < 2**32`` (one word each)."""
    words = np.empty(prefix.shape[0] + 1, dtype=np.uint64)
    for i in range(prefix.shape[0]):
        words[i] = prefix[i]
    for q in range(ks.shape[0]):
        words[prefix.shape[0]] = np.uint64(ks[q])
        out[q] = keyed_index(words, m)


def draws(seed: int, ks, m: int, stream: int = 0) -> np.ndarray:
    """``[draw_batch(seed, k, m, 1, stream)[0] for k in ks]`` (int64), computed compiled."""
    ks = np.ascontiguousarray(ks, dtype=np.int64)
    if not 1 <= m <= 0xFFFFFFFF:
        raise InputError(f"the fast keyed draw needs 1 <= m <= 2**32 - 1 samples, got m = {m}")
    if ks.size and (ks.min() < 0 or ks.max() > 0xFFFFFFFF):
        raise InputError("the fast keyed draw needs iterations 0 <= k < 2**32")
    out = np.empty(ks.size, dtype=np.int64)
    keyed_indices(np.array(_words(seed) + _words(stream), dtype=np.uint64), ks, np.int64(m), out)
    return out
