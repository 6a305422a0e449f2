"""Python side of anvil-worker's embedded interpreter.

The worker (src/worker/python/) imports this package inside its own process:
`triton_gate` checks a Triton candidate's source before it runs, `bridge` loads
and calls candidates, profiles which GPU kernels a call launched, and builds
the torch.compile baseline. Nothing here is meant to run outside the worker.
"""
