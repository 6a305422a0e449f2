# A KernelBench-style problem written for Anvil's tests: C = A @ B with two
# inputs of different sizes (M, K, N are distinct, so each gets its symbol).
import torch
import torch.nn as nn


class Model(nn.Module):
    """A single matrix multiplication."""

    def __init__(self):
        super(Model, self).__init__()

    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        return torch.matmul(A, B)


M = 1024
K = 4096
N = 2048


def get_inputs():
    A = torch.randn(M, K)
    B = torch.randn(K, N)
    return [A, B]


def get_init_inputs():
    return []
