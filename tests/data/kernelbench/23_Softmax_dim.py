# A KernelBench-style problem written for Anvil's tests: softmax over a
# dimension the constructor receives (get_init_inputs).
import torch
import torch.nn as nn


class Model(nn.Module):
    """Softmax along `dim`."""

    def __init__(self, dim: int):
        super(Model, self).__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=self.dim)


batch_size = 16
features = 16384


def get_inputs():
    return [torch.randn(batch_size, features)]


def get_init_inputs():
    return [1]
