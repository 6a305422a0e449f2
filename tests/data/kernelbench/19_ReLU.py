# A KernelBench-style problem written for Anvil's tests (KernelBench itself is
# not available offline): an elementwise ReLU at a KernelBench-sized shape.
import torch
import torch.nn as nn


class Model(nn.Module):
    """Applies ReLU to the input."""

    def __init__(self):
        super(Model, self).__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


batch_size = 16
dim = 16384


def get_inputs():
    x = torch.randn(batch_size, dim)
    return [x]


def get_init_inputs():
    return []
