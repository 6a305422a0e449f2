# aten110.arange in Triton (tasks/aten110/arange.toml): out[i] = start +
# i * step for i in [0, N). No inputs: anvil_kernel gets the output and the
# attributes start and step (Python floats) by name. f32 values are computed
# in f64 and rounded once; i32 / i64 in int64 from the integer-valued start
# and step, as ATen converts its Scalars.
import triton
import triton.language as tl


@triton.jit
def _arange(out_ptr, n, stride, start, step, IS_FLOAT: tl.constexpr, BLOCK: tl.constexpr):
    i = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    if IS_FLOAT:
        v = start.to(tl.float64) + i.to(tl.float64) * step.to(tl.float64)
    else:
        v = start.to(tl.int64) + i * step.to(tl.int64)
    tl.store(out_ptr + i * stride, v.to(out_ptr.dtype.element_ty), mask=i < n)


def anvil_kernel(out, start, step):
    n = out.shape[0]
    if n == 0:
        return
    is_float = out.dtype.is_floating_point
    block = 1024
    _arange[(triton.cdiv(n, block),)](out, n, out.stride(0), float(start) if is_float else int(start),
                                      float(step) if is_float else int(step), IS_FLOAT=is_float, BLOCK=block)
