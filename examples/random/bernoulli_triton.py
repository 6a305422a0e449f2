# aten110.bernoulli (Triton): out[i] = 1 with probability p[i], else 0.
#   p, out: T[R, C], T in {f32, f16, bf16}; attribute seed (i64), set per case by the harness.
#
# tl.rand(seed, offs) is Philox keyed by the seed and the element's row-major
# index in the output: every element an independent uniform in [0, 1), the
# same for the same seed, independent across seeds, no state between calls.
# p may have any strides (passed in elements); out is contiguous.
import triton
import triton.language as tl


@triton.jit
def _bernoulli(p_ptr, out_ptr, seed, cols, n, ps0, ps1, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    r = offs // cols
    c = offs - r * cols
    p = tl.load(p_ptr + r * ps0 + c * ps1, mask=mask, other=0.0).to(tl.float32)
    u = tl.rand(seed, offs)
    tl.store(out_ptr + offs, (u < p).to(out_ptr.dtype.element_ty), mask=mask)


def anvil_kernel(p, out, seed):
    rows, cols = p.shape
    n = rows * cols
    if n == 0:
        return
    block = 1024
    _bernoulli[(triton.cdiv(n, block),)](p, out, seed, cols, n, p.stride(0), p.stride(1), BLOCK=block)
