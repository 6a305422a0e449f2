# RMSNorm as a PyTorch module: the reference of examples/rmsnorm/task_module.toml,
# the same operator as task.toml's formula, written the way a model author
# would (KernelBench style). The weight is an input, not a parameter: a
# candidate kernel sees only the task's inputs.
import torch


class Model(torch.nn.Module):
    def forward(self, x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
        variance = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(variance + eps) * w


def get_inputs():
    return [torch.randn(1024, 1024), torch.randn(1024)]


def get_init_inputs():
    return []
