# A well-formed Triton candidate (the gate accepts it; importing needs triton).
import math

import torch
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, n, alpha, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)
    tl.store(out_ptr + offsets, (x * alpha).to(out_ptr.dtype.element_ty), mask=mask)


def anvil_kernel(x: torch.Tensor, out: torch.Tensor, alpha: float):
    n = x.numel()
    assert x.is_contiguous() and x.dtype == torch.float32
    scratch = torch.empty_like(x)
    grid = (triton.cdiv(n, 1024),)
    scale_kernel[grid](x, out, n, alpha * math.sqrt(1.0), BLOCK=1024)
