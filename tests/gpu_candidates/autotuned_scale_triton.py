# A correct Triton kernel whose first launch per shape autotunes 8
# configurations: it compiles each, then times each with thousands of
# launches (the kernel is tiny), for seconds. With `--timeout 1` it verifies
# only if the worker keeps the orchestrator informed while Triton prepares a
# kernel (worker/python/compile_watch.h).
# Task: tests/gpu_exploits/task_scale.toml (out = x * 2.5 + y).
import triton
import triton.language as tl


@triton.autotune(
    configs=[triton.Config({"BR": br, "BC": bc}, num_warps=w)
             for br in (1, 4) for bc in (64, 256) for w in (2, 4)],
    key=["rows", "cols"],
)
@triton.jit
def _scale(x_ptr, y_ptr, out_ptr, rows, cols, xs0, xs1, ys0, ys1, BR: tl.constexpr, BC: tl.constexpr):
    r = (tl.program_id(0).to(tl.int64) * BR + tl.arange(0, BR))[:, None]
    c = (tl.program_id(1).to(tl.int64) * BC + tl.arange(0, BC))[None, :]
    mask = (r < rows) & (c < cols)
    x = tl.load(x_ptr + r * xs0 + c * xs1, mask=mask, other=0.0)
    y = tl.load(y_ptr + r * ys0 + c * ys1, mask=mask, other=0.0)
    tl.store(out_ptr + r * cols + c, x * 2.5 + y, mask=mask)


def anvil_kernel(x, y, out):
    rows, cols = x.shape
    if rows == 0 or cols == 0:
        return
    grid = lambda meta: (triton.cdiv(rows, meta["BR"]), triton.cdiv(cols, meta["BC"]))
    _scale[grid](x, y, out, rows, cols, x.stride(0), x.stride(1), y.stride(0), y.stride(1))
