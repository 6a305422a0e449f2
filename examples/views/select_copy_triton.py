# A Triton candidate for a view task: refused before it runs, because a
# Triton candidate writes into buffers the harness gives it and cannot return
# a view of its input (tests/integration/gpu_views_test.cpp checks the refusal).
import triton
import triton.language as tl


@triton.jit
def _copy(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def kernel(x, out):
    n = out.numel()
    _copy[(triton.cdiv(n, 1024),)](x, out, n, BLOCK=1024)
