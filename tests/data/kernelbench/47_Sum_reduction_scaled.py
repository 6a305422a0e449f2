# A KernelBench-style problem written for Anvil's tests: a keepdim sum (an
# output dim that stays 1 at every size) times a scalar input (an attribute).
import torch
import torch.nn as nn


class Model(nn.Module):
    """Sums over `dim`, keeping it, and scales the result."""

    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        return torch.sum(x, dim=self.dim, keepdim=True) * scale


batch_size = 16
dim1 = 256
dim2 = 257
reduce_dim = 1


def get_inputs():
    return [torch.randn(batch_size, dim1, dim2), 0.5]


def get_init_inputs():
    return [reduce_dim]
