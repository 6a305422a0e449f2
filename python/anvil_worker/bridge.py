"""What the worker's C++ calls in its embedded interpreter.

- load_candidate: the static gate, then the import of a Triton candidate file.
- call_candidate: one call of its anvil_kernel with keyword arguments.
- launched_kernels / candidate_kernel_names: which GPU kernels one call
  launched (torch.profiler) and which of them the candidate wrote itself.
- compile_function: the torch.compile baseline for a formula's Python source.
- load_reference_module / reference_caller / compile_module /
  reference_keywords: a task whose reference is a PyTorch module file
  (KernelBench style).

Every function runs on the worker's thread with the GIL held; errors are
Python exceptions, which the C++ side turns into verdicts or Statuses.
"""
import importlib.util
import itertools
import math
import os
import sys
from typing import Callable, List, NamedTuple

from . import triton_gate


_load_counter = itertools.count()


class GateViolation(Exception):
    """The candidate's source broke the Triton candidate rules (verdict: suspicious)."""

    def __init__(self, path: str, violations: List[triton_gate.Violation]):
        self.violations = violations
        super().__init__(triton_gate.format_violations(path, violations))


class CandidateLoadError(Exception):
    """The candidate imported but cannot be called (verdict: load_error)."""


class UnsupportedTorch(RuntimeError):
    """The installed PyTorch lacks what was asked for (torch.compile before 2.0)."""


def load_candidate(path: str, static_gate: bool = True):
    """Imports the candidate file at `path` as a fresh module and returns it.

    Raises GateViolation for rule violations (before any of its code runs),
    SyntaxError / ImportError / any error its top level raises as they are, and
    CandidateLoadError when it has no callable anvil_kernel.
    """
    with open(path, encoding="utf-8") as f:
        source = f.read()
    if static_gate:
        violations = triton_gate.check_source(source, filename=path)
        if violations:
            raise GateViolation(path, violations)
    # A fresh module name per load: two candidates never share module state.
    # Registered in sys.modules because Triton's @jit reads its function's
    # source through inspect, which looks the module up there.
    name = f"anvil_candidate_{next(_load_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _signal_compiles(module)
    if not callable(getattr(module, "anvil_kernel", None)):
        raise CandidateLoadError(f"{path}: no callable top-level anvil_kernel; define "
                                 "`def anvil_kernel(...)` taking the task's inputs, outputs and "
                                 "attributes as keyword arguments")
    return module


def _triton_objects(module):
    """The candidate's Triton objects: each top-level JITFunction, and the
    autotune/heuristics wrappers around it, down to the JITFunction."""
    for value in vars(module).values():
        obj = value
        while type(obj).__module__.startswith("triton"):
            yield obj
            if not hasattr(obj, "fn"):
                break
            obj = obj.fn


def _is_jit_function(obj) -> bool:
    return any(cls.__name__ == "JITFunction" for cls in type(obj).__mro__)


def _is_autotuner(obj) -> bool:
    return any(cls.__name__ == "Autotuner" for cls in type(obj).__mro__)


def _signal_compiles(module) -> None:
    """Tells the worker when Triton prepares one of the candidate's kernels.

    The first launch of a kernel for a new specialisation compiles it
    (seconds; longer on a busy machine), and an autotuned kernel first
    benchmarks every configuration for the new key (thousands of launches per
    configuration when the kernel is tiny). The worker sends heartbeats while
    either runs, so slow preparation is not mistaken for a hung kernel.
    JITFunction.run calls self.compile(...) and Autotuner.run calls
    self._bench(..., config=...) per configuration; wrapping them on the
    instance reaches only this candidate's kernels, and a hang in a later,
    ordinary launch still falls silent. Outside the worker (no _anvil_native
    module) nothing is wrapped.
    """
    try:
        import _anvil_native
    except ImportError:
        return
    for obj in _triton_objects(module):
        if _is_jit_function(obj):
            _wrap_with_signal(obj, "compile", _anvil_native)
        elif _is_autotuner(obj):
            _wrap_with_signal(obj, "_bench", _anvil_native)


def _wrap_with_signal(obj, method: str, native) -> None:
    original = getattr(obj, method, None)
    if not callable(original) or getattr(original, "_anvil_signals", False):
        return

    def with_signal(*args, **kwargs):
        native.compile_started()
        try:
            return original(*args, **kwargs)
        finally:
            native.compile_finished()

    with_signal._anvil_signals = True
    try:
        setattr(obj, method, with_signal)
    except AttributeError:  # a Triton that does not allow it: no heartbeats while preparing
        pass


def call_candidate(module, kwargs: dict) -> None:
    """Calls the candidate's anvil_kernel(**kwargs); its return value is ignored."""
    module.anvil_kernel(**kwargs)


class DeviceWork(NamedTuple):
    kernels: List[str]      # GPU kernel names, in launch order
    memory_ops: List[str]   # device-side memcpy / memset activities ("Memcpy DtoD (Device -> Device)")


def launched_kernels(fn: Callable[[], object]) -> DeviceWork:
    """Runs fn() once under torch.profiler and returns the GPU work it launched."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    if not torch.cuda.is_available():
        raise RuntimeError("launched_kernels needs a CUDA device: the profiler sees GPU kernels only")
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    kernels, memory_ops = [], []
    for event in prof.events():
        if event.device_type != torch.autograd.DeviceType.CUDA:
            continue
        # CUPTI names copies and fills "Memcpy ..." / "Memset ..."; everything else is a kernel.
        (memory_ops if event.name.startswith(("Memcpy", "Memset")) else kernels).append(event.name)
    return DeviceWork(kernels, memory_ops)


def candidate_kernel_names(module) -> List[str]:
    """Names of the @triton.jit functions defined in the candidate module.

    Triton wraps a function as JITFunction, and autotune/heuristics wrap that
    again; each wrapper keeps the wrapped object in `.fn`. The profiler names
    a Triton kernel after the innermost Python function.
    """
    names = []
    for value in vars(module).values():
        obj, wrapped = value, False
        while type(obj).__module__.startswith("triton") and hasattr(obj, "fn"):
            obj, wrapped = obj.fn, True
        if wrapped and getattr(obj, "__module__", None) == module.__name__:
            names.append(obj.__name__)
    return sorted(set(names))


# What the last torch.compile baseline was made for (a formula's source or a
# module object). A worker evaluates task after task (a suite run keeps it for
# hours); Dynamo's caches and recompile counters outlive each task, and a
# suite run on an H200 saw the baseline fail with FailOnRecompileLimitHit, or
# recompile inside timed trials until the worker went silent, after a worker
# had served several tasks. Starting Dynamo afresh for each new baseline
# keeps every task's baseline as it would be in a fresh process.
_last_compiled_for = None


def _fresh_dynamo_for(key):
    import torch

    global _last_compiled_for
    if _last_compiled_for is not None and _last_compiled_for != key:
        torch._dynamo.reset()
    _last_compiled_for = key


def compile_function(source: str, name: str):
    """torch.compile(fn, dynamic=False, fullgraph=True) of function `name` defined by `source`."""
    import torch

    if not hasattr(torch, "compile"):
        raise UnsupportedTorch(f"torch.compile needs PyTorch >= 2.0; the worker's Python imports torch "
                               f"{torch.__version__} from {os.path.dirname(torch.__file__)}")
    _fresh_dynamo_for(source)
    namespace = {"torch": torch, "math": math}
    exec(compile(source, f"<anvil formula {name}>", "exec"), namespace)  # our emitter's source, not a candidate's
    fn = namespace.get(name)
    if not callable(fn):
        raise RuntimeError(f"the formula source defines no function '{name}'")
    return torch.compile(fn, dynamic=False, fullgraph=True)


class ReferenceModuleError(Exception):
    """The task's reference module cannot serve as a reference (not the candidate's fault)."""


def load_reference_module(source: str, path: str, class_name: str, num_args: int, keywords: List[str]):
    """Instantiates `class_name` from a reference module file's text (KernelBench style).

    The class must be a torch.nn.Module whose forward takes `num_args`
    arguments (the task's inputs, then its attributes); get_init_inputs(), when defined, gives the
    constructor's arguments. The module may hold no parameters or buffers:
    candidates see only the task's inputs, so every tensor the reference
    uses must be one of them. Keyword-only parameters of forward (after `*`)
    must be among `keywords` (the task's size symbols, type variables and
    "device"): the harness fills them per call (reference_keywords).
    Returns (the module in eval mode, the names of its keyword-only parameters).
    """
    import inspect
    import torch

    name = f"anvil_reference_{next(_load_counter)}"
    module = type(sys)(name)
    module.__file__ = path
    sys.modules[name] = module  # for inspect and torch.compile, which look modules up there
    exec(compile(source, path, "exec"), module.__dict__)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ReferenceModuleError(f"{path}: no torch.nn.Module subclass named {class_name}")
    init = getattr(module, "get_init_inputs", None)
    init_args = list(init()) if callable(init) else []
    model = cls(*init_args)
    held = [f"parameter {n} {tuple(p.shape)}" for n, p in model.named_parameters()]
    held += [f"buffer {n} {tuple(b.shape)}" for n, b in model.named_buffers()]
    if held:
        raise ReferenceModuleError(
            f"{path}: {class_name} holds {', '.join(held)}; a candidate sees only the task's inputs, so pass "
            "every tensor the reference uses as an input of forward (declared in the task)")
    params = list(inspect.signature(model.forward).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    required = [p for p in positional if p.default is p.empty]
    if not takes_varargs and not (len(required) <= num_args <= len(positional)):
        raise ReferenceModuleError(
            f"{path}: {class_name}.forward takes {len(positional)} argument(s) "
            f"({', '.join(p.name for p in positional)}) but the task passes {num_args} "
            "(its inputs, then its attributes)")
    named = [p.name for p in params if p.kind == p.KEYWORD_ONLY]
    unknown = [n for n in named if n not in keywords]
    if unknown:
        raise ReferenceModuleError(
            f"{path}: {class_name}.forward takes keyword-only parameter(s) {', '.join(unknown)}; the harness fills "
            f"keyword-only parameters named after a size symbol bound in every case, a type variable, or 'device' "
            f"(this task offers: {', '.join(keywords) or 'none'})")
    return model.eval(), named


# Short dtype names (core/dtype.h) -> torch's attribute names.
_TORCH_DTYPES = {"bool": "bool", "u8": "uint8", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
                 "f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64"}


def reference_keywords(names: List[str], sizes: dict, dtypes: dict, device: str) -> dict:
    """The keyword arguments of one reference call: for each keyword-only
    parameter of forward, the case's size of that symbol (an int), the
    torch.dtype of that type variable (`dtypes` maps it to a short name), or
    the torch.device the harness runs on."""
    import torch

    kw = {}
    for n in names:
        if n == "device":
            kw[n] = torch.device(device)
        elif n in dtypes:
            kw[n] = getattr(torch, _TORCH_DTYPES[dtypes[n]])
        else:
            kw[n] = sizes[n]
    return kw


def reference_caller(model):
    """A function calling model(*inputs, **keywords) without autograd (a single tensor result becomes a 1-tuple)."""
    import torch

    def run(*inputs, **keywords):
        with torch.no_grad():
            result = model(*inputs, **keywords)
        return tuple(result) if isinstance(result, (tuple, list)) else (result,)

    return run


def compile_module(model):
    """torch.compile(model, dynamic=False), called without autograd."""
    import torch

    if not hasattr(torch, "compile"):
        raise UnsupportedTorch(f"torch.compile needs PyTorch >= 2.0; the worker's Python imports torch "
                               f"{torch.__version__} from {os.path.dirname(torch.__file__)}")
    _fresh_dynamo_for(model)
    compiled = torch.compile(model, dynamic=False)

    def run(*inputs, **keywords):
        with torch.no_grad():
            return compiled(*inputs, **keywords)

    return run
