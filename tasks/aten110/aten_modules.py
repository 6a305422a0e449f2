# Module references of the aten110 tasks whose operator the formula language
# cannot express (docs/task-format.md, "Module references"). One class per
# task, selected by the task's `[reference] class = "..."`; each forward calls
# the ATen operator itself (torch.ops.aten.<op>) with the arguments the task
# file describes, so the reference is ATen's semantics, not a rewrite of them.
#
# Conventions:
# - forward takes the task's inputs, then its attributes, in declaration order.
# - The worker calls the reference on f64 copies of floating inputs and casts
#   the results to the declared dtypes; integer and bool inputs come as they are.
# - In-place operators (fill_, zero_, copy_, index_put_, _index_put_impl_) call
#   ATen's functional twin (aten::fill, aten::zero, aten::copy, aten::index_put,
#   aten::_index_put_impl), which computes the same values into a new tensor:
#   the harness expects a reference never to write its inputs
#   (src/worker/expectation.cpp reuses them for the eager run), and the task's
#   `inplace` output makes the candidate write into the input.
# - View operators return ATen's view; tasks that declare view_of judge its
#   aliasing, strides and offset too (README "View operators").
# - Sizes an operator takes as arguments but a task cannot bind per case
#   (output sizes, kernel sizes) are attributes or derived from input shapes.
# - Operators with no tensor input (arange, full, zeros, scalar_tensor) take
#   keyword-only parameters after `*`, which the harness fills by name: a
#   size symbol bound in every case -> its size (int), a type variable -> the
#   variant's torch.dtype (torch.float64 for a floating type in the f64
#   correctness reference), `device` -> the torch.device it runs on.
import torch

aten = torch.ops.aten


class Op__index_put_impl_(torch.nn.Module):
    def forward(self, x, idx, values):
        return aten._index_put_impl.default(x, [idx], values, True, False)  # accumulate=True, unsafe=False


class Op__local_scalar_dense(torch.nn.Module):
    def forward(self, x):
        # _local_scalar_dense returns a Python number; the task's output is a 0-d tensor holding it.
        return torch.tensor(aten._local_scalar_dense.default(x), dtype=x.dtype, device=x.device)


class Op_affine_grid_generator(torch.nn.Module):
    def forward(self, theta, h, w, align_corners):
        return aten.affine_grid_generator.default(theta, [theta.shape[0], 1, h, w], align_corners)


class Op_as_strided(torch.nn.Module):
    def forward(self, x):
        # Overlapping windows out[i, j] = storage[offset + i + j]: the view torch's unfold tricks build.
        return aten.as_strided.default(x, list(x.shape), [1, 1])


class Op_cat(torch.nn.Module):
    def forward(self, a, b, c):
        return aten.cat.default([a, b, c], 1)


class Op_contiguous(torch.nn.Module):
    def forward(self, x):
        return aten.contiguous.default(x)


class Op_copy_(torch.nn.Module):
    def forward(self, x, src):
        return aten.copy.default(x, src)


class Op_cumsum(torch.nn.Module):
    def forward(self, x):
        return aten.cumsum.default(x, -1)


class Op_diff(torch.nn.Module):
    def forward(self, x, prepend):
        return aten.diff.default(x, 1, -1, prepend, None)


class Op_embedding(torch.nn.Module):
    def forward(self, weight, idx):
        return aten.embedding.default(weight, idx)


class Op_expand(torch.nn.Module):
    def forward(self, x, n):
        return aten.expand.default(x, [-1, n, -1])


class Op_expand_as(torch.nn.Module):
    def forward(self, x, other):
        return aten.expand_as.default(x, other)


class Op_fill_(torch.nn.Module):
    def forward(self, x, value):
        return aten.fill.Scalar(x, value)


class Op_gather(torch.nn.Module):
    def forward(self, x, idx):
        return aten.gather.default(x, 1, idx)


class Op_i0(torch.nn.Module):
    def forward(self, x):
        return aten.i0.default(x)


class Op_im2col(torch.nn.Module):
    def forward(self, x, kernel, dilation, padding, stride):
        return aten.im2col.default(x, [kernel, kernel], [dilation, dilation], [padding, padding], [stride, stride])


class Op_index(torch.nn.Module):
    def forward(self, x, idx):
        return aten.index.Tensor(x, [idx])


class Op_index_put_(torch.nn.Module):
    def forward(self, x, mask, values):
        return aten.index_put.default(x, [mask], values, False)


class Op_index_select(torch.nn.Module):
    def forward(self, x, idx):
        return aten.index_select.default(x, 1, idx)


class Op_item(torch.nn.Module):
    def forward(self, x):
        # Tensor.item() returns a Python number; the task's output is a 0-d tensor holding it.
        return torch.tensor(x.item(), dtype=x.dtype, device=x.device)


class Op_linear(torch.nn.Module):
    def forward(self, x, w, b):
        return aten.linear.default(x, w, b)


class Op_narrow(torch.nn.Module):
    def forward(self, x):
        return aten.narrow.default(x, 1, 1, 3)


class Op_new_ones(torch.nn.Module):
    def forward(self, x):
        return aten.new_ones.default(x, list(x.shape))


class Op_ones_like(torch.nn.Module):
    def forward(self, x):
        return aten.ones_like.default(x)


class Op_polygamma(torch.nn.Module):
    def forward(self, x, n):
        return aten.polygamma.default(n, x)


class Op_reflection_pad1d_backward(torch.nn.Module):
    def forward(self, grad_output, x, pad_left, pad_right):
        return aten.reflection_pad1d_backward.default(grad_output, x, [pad_left, pad_right])


class Op_reshape(torch.nn.Module):
    def forward(self, x, heads):
        return aten.reshape.default(x, [x.shape[0], x.shape[1], heads, x.shape[2] // heads])


class Op_resolve_conj(torch.nn.Module):
    def forward(self, x):
        return aten.resolve_conj.default(x)


class Op_resolve_neg(torch.nn.Module):
    def forward(self, x):
        return aten.resolve_neg.default(x)


class Op_rot90(torch.nn.Module):
    def forward(self, x):
        return aten.rot90.default(x, 1, [0, 1])


class Op_scatter(torch.nn.Module):
    def forward(self, x, idx, src):
        return aten.scatter.src(x, 1, idx, src)


class Op_select(torch.nn.Module):
    def forward(self, x):
        return aten.select.int(x, 1, -1)


class Op_select_backward(torch.nn.Module):
    def forward(self, grad, size, index):
        return aten.select_backward.default(grad, [grad.shape[0], size, grad.shape[1]], 1, index)


class Op_sort(torch.nn.Module):
    def forward(self, x):
        return aten.sort.stable(x, stable=True, dim=-1, descending=False)


class Op_stack(torch.nn.Module):
    def forward(self, a, b, c):
        return aten.stack.default([a, b, c], 1)


class Op_t(torch.nn.Module):
    def forward(self, x):
        return aten.t.default(x)


class Op_unsafe_split(torch.nn.Module):
    def forward(self, x, split_size):
        return aten.unsafe_split.Tensor(x, split_size, -1)


class Op_unsafe_split_with_sizes(torch.nn.Module):
    def forward(self, x, q, k, v):
        return aten.unsafe_split_with_sizes.default(x, [q, k, v], -1)


class Op_unsqueeze(torch.nn.Module):
    def forward(self, x):
        return aten.unsqueeze.default(x, 1)


class Op_upsample_nearest2d_backward(torch.nn.Module):
    def forward(self, grad_output, in_h, in_w):
        n, c, out_h, out_w = grad_output.shape
        return aten.upsample_nearest2d_backward.default(grad_output, [out_h, out_w], [n, c, in_h, in_w], None, None)


class Op_zero_(torch.nn.Module):
    def forward(self, x):
        return aten.zero.default(x)


class Op_zeros_like(torch.nn.Module):
    def forward(self, x):
        return aten.zeros_like.default(x)


class Op_arange(torch.nn.Module):
    # end = start + N * step is exact for the task's integer-valued start and
    # step, so ATen's length ceil((end - start) / step) is the case's N.
    def forward(self, start, step, *, N, T, device):
        return aten.arange.start_step(start, start + N * step, step, dtype=T, device=device)


class Op_full(torch.nn.Module):
    def forward(self, value, *, R, C, T, device):
        return aten.full.default([R, C], value, dtype=T, device=device)


class Op_zeros(torch.nn.Module):
    def forward(self, *, R, C, T, device):
        return aten.zeros.default([R, C], dtype=T, device=device)


class Op_scalar_tensor(torch.nn.Module):
    def forward(self, value, *, T, device):
        return aten.scalar_tensor.default(value, dtype=T, device=device)


class Op_bernoulli(torch.nn.Module):
    # Random ops: the harness seeds PyTorch's generators with the case's seed
    # before each call; the seed attribute arrives as the task's default.
    def forward(self, p, seed):
        return aten.bernoulli.default(p)


class Op_exponential_(torch.nn.Module):
    def forward(self, x, lambd, seed):
        return x.clone().exponential_(lambd)


class Op_poisson(torch.nn.Module):
    def forward(self, rate, seed):
        return aten.poisson.default(rate)


class Op_rrelu_with_noise_training(torch.nn.Module):
    def forward(self, x, noise, lower, upper, seed):
        # A contiguous copy: ATen's CPU kernel writes `noise` through its data
        # pointer as if contiguous, so a transposed noise would get its values
        # in the wrong places (the candidate's in-place noise is judged by index).
        noise = noise.clone(memory_format=torch.contiguous_format)
        out = aten.rrelu_with_noise.default(x, noise, lower, upper, True)
        return out, noise
