# A KernelBench-style problem written for Anvil's tests: nn.Linear holds a
# weight and a bias, which a candidate kernel would never receive, so Anvil
# refuses it (it must be rewritten to take its weights as inputs).
import torch
import torch.nn as nn


class Model(nn.Module):
    """y = x W^T + b through nn.Linear."""

    def __init__(self, in_features, out_features):
        super(Model, self).__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.linear(x)


batch_size = 128
in_features = 16384
out_features = 16384


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]
