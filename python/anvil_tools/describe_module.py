"""Describes a KernelBench-style PyTorch problem file as one JSON document.

A problem file defines `class Model(torch.nn.Module)`, `get_inputs()` and
optionally `get_init_inputs()`. Anvil turns such a file into a task
(src/agent/reference_input.cpp: `anvil import kernelbench`, `anvil gen
--reference`); this script is the part that needs PyTorch:

- the inputs get_inputs() returns (tensor: dtype and shape; Python scalar:
  its type and value) and the init inputs, with get_inputs() and the model's
  constructor run while torch's tensor factories make tensors on the `meta`
  device: KernelBench shapes (16384 x 16384, ...) are described without
  allocating them;
- the forward's parameter names (they name the task's inputs);
- the parameters and buffers the model holds (a candidate sees only the
  task's inputs, so such a module cannot be a reference as it stands);
- the module's integer globals (batch_size = 16, ...: they name shape symbols);
- "runs": the outputs' dtypes and shapes when forward is called on small
  random inputs of the shapes the caller lists (--runs '[[[4, 8], [8]], ...]',
  one shape per tensor input, per run), or by default on the inputs with every
  dim above 1 divided by 64 (rounded up, at least 2). Forward never runs at
  the file's own sizes. A run that raises reports its error and the rest go on.

Usage: describe_module.py FILE [--class NAME] [--runs JSON] [--output PATH]
Prints the JSON on stdout, or writes it to PATH (the caller's choice when
stdout is shared with warnings). Errors: {"error": "..."} naming the file, exit 1.
Imports only torch, json, sys, importlib and the problem file, which runs in
a fresh module namespace.
"""
import importlib.util
import json
import sys

import torch

_DTYPE_NAMES = {
    torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16", torch.float64: "f64",
    torch.int64: "i64", torch.int32: "i32", torch.int16: "i16", torch.int8: "i8", torch.uint8: "u8",
    torch.bool: "bool",
}

# The factories a problem file builds its inputs (and a model its weights)
# with; while describing, they make meta tensors (shape and dtype, no memory).
_FACTORIES = ("randn", "rand", "randint", "zeros", "ones", "empty", "full", "arange", "linspace", "eye",
              "randperm", "normal")


class DescribeError(Exception):
    """The file cannot be described; the message says why."""


class _OnMeta:
    """Within the block, torch.<factory>(...) makes its tensor on the meta device."""

    def __enter__(self):
        self.saved = {name: getattr(torch, name) for name in _FACTORIES if hasattr(torch, name)}

        def on_meta(factory):
            def make(*args, **kwargs):
                kwargs["device"] = "meta"
                return factory(*args, **kwargs)
            return make

        for name, factory in self.saved.items():
            setattr(torch, name, on_meta(factory))
        return self

    def __exit__(self, *exc):
        for name, factory in self.saved.items():
            setattr(torch, name, factory)
        return False


def _dtype_name(dtype, what):
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        raise DescribeError(f"{what} has dtype {dtype}, which Anvil has no name for "
                            f"(it knows {', '.join(sorted(set(_DTYPE_NAMES.values())))})")
    return name


def _describe_value(value, what):
    if isinstance(value, torch.Tensor):
        return {"kind": "tensor", "dtype": _dtype_name(value.dtype, what), "shape": list(value.shape)}
    if isinstance(value, bool):  # before int: bool is an int in Python
        return {"kind": "scalar", "type": "bool", "value": value}
    if isinstance(value, int):
        return {"kind": "scalar", "type": "int", "value": value}
    if isinstance(value, float):
        return {"kind": "scalar", "type": "float", "value": value}
    raise DescribeError(f"{what} is a {type(value).__name__}; a task input is a tensor or a Python int, "
                        "float or bool")


def _load(path):
    spec = importlib.util.spec_from_file_location("anvil_described_module", path)
    if spec is None or spec.loader is None:
        raise DescribeError("not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except FileNotFoundError:
        raise DescribeError("cannot open the file")
    except Exception as e:  # the file's own error: say which
        raise DescribeError(f"running the file raised {type(e).__name__}: {e}")
    return module


def _call(fn, what):
    try:
        return fn()
    except DescribeError:
        raise
    except Exception as e:
        raise DescribeError(f"{what} raised {type(e).__name__}: {e}")


def _make_model(cls, init_args, class_name):
    """The model, built with meta tensors where its constructor allows (weights of any size cost nothing)."""
    try:
        with _OnMeta():
            return cls(*init_args)
    except Exception:
        pass  # a constructor that needs real tensors: build it for real
    return _call(lambda: cls(*init_args), f"{class_name}(*get_init_inputs())")


def _random_input(spec, shape):
    dtype = next(t for t, n in _DTYPE_NAMES.items() if n == spec["dtype"])
    if dtype.is_floating_point:
        return torch.randn(shape, dtype=torch.float32).to(dtype)
    if dtype == torch.bool:
        return torch.rand(shape) < 0.5
    # Integer inputs are often indices or class labels: 0 is valid for any size.
    return torch.zeros(shape, dtype=dtype)


def _run(model, inputs, shapes, class_name):
    tensors = [i for i in inputs if i["kind"] == "tensor"]
    if len(shapes) != len(tensors):
        return {"shapes": shapes, "error": f"{len(shapes)} shape(s) given for {len(tensors)} tensor input(s)"}
    args, it = [], iter(shapes)
    for spec in inputs:
        args.append(_random_input(spec, list(next(it))) if spec["kind"] == "tensor" else spec["value"])
    try:
        with torch.no_grad():
            result = model(*args)
    except Exception as e:
        return {"shapes": shapes, "error": f"{class_name}.forward raised {type(e).__name__}: {e}"}
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    outputs = []
    for k, r in enumerate(results):
        if not isinstance(r, torch.Tensor):
            return {"shapes": shapes, "error": f"{class_name}.forward returned a {type(r).__name__} as output {k}; "
                                               "a task's outputs are tensors"}
        outputs.append({"dtype": _dtype_name(r.dtype, f"output {k}"), "shape": list(r.shape)})
    return {"shapes": shapes, "outputs": outputs}


def _default_shapes(inputs):
    return [[d if d <= 1 else max(2, -(-d // 64)) for d in i["shape"]] for i in inputs if i["kind"] == "tensor"]


def describe(path, class_name, runs):
    module = _load(path)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise DescribeError(f"no torch.nn.Module subclass named {class_name}")
    get_inputs = getattr(module, "get_inputs", None)
    if not callable(get_inputs):
        raise DescribeError("no get_inputs() function: it gives the inputs' dtypes and shapes")
    get_init = getattr(module, "get_init_inputs", None)

    try:
        with _OnMeta():
            raw_inputs = list(get_inputs())
    except Exception:  # it needs real tensors (e.g. it computes on them): make them for real
        raw_inputs = list(_call(get_inputs, "get_inputs()"))
    raw_init = list(_call(get_init, "get_init_inputs()")) if callable(get_init) else []
    inputs = [_describe_value(v, f"get_inputs()[{k}]") for k, v in enumerate(raw_inputs)]
    init_inputs = [_describe_value(v, f"get_init_inputs()[{k}]") for k, v in enumerate(raw_init)]
    if any(i["kind"] == "tensor" for i in init_inputs):
        raise DescribeError("get_init_inputs() returns a tensor; the constructor's arguments must be Python numbers")
    init_args = [i["value"] for i in init_inputs]

    model = _make_model(cls, init_args, class_name)
    held = [f"parameter {n} {tuple(p.shape)}" for n, p in model.named_parameters()]
    held += [f"buffer {n} {tuple(b.shape)}" for n, b in model.named_buffers()]

    code = getattr(model.forward, "__code__", None)
    params = list(code.co_varnames[1:code.co_argcount]) if code is not None else []
    ints = {k: v for k, v in vars(module).items()
            if not k.startswith("_") and isinstance(v, int) and not isinstance(v, bool)}

    doc = {"file": path, "class": class_name, "forward_params": params, "inputs": inputs,
           "init_inputs": init_inputs, "held": held, "globals": ints, "runs": []}
    if held:
        return doc  # it cannot be a reference; no forward needed to say so
    model = _call(lambda: cls(*init_args), f"{class_name}(*get_init_inputs())").eval()  # real tensors now
    torch.manual_seed(0)
    for shapes in (runs if runs is not None else [_default_shapes(inputs)]):
        doc["runs"].append(_run(model, inputs, shapes, class_name))
    return doc


def main(argv):
    args = argv[1:]
    options = {"--class": "Model", "--runs": None, "--output": None}
    positional = []
    while args:
        a = args.pop(0)
        if a in options:
            if not args:
                raise SystemExit(f"describe_module.py: {a} needs a value")
            options[a] = args.pop(0)
        else:
            positional.append(a)
    if len(positional) != 1:
        raise SystemExit("usage: describe_module.py FILE [--class NAME] [--runs JSON] [--output PATH]")
    path = positional[0]
    code = 0
    try:
        runs = json.loads(options["--runs"]) if options["--runs"] is not None else None
        if runs is not None and not (isinstance(runs, list) and all(isinstance(r, list) for r in runs)):
            raise DescribeError("--runs is a JSON list of runs, each a list of shapes (one per tensor input)")
        doc = describe(path, options["--class"], runs)
    except DescribeError as e:
        doc, code = {"error": f"{path}: {e}"}, 1
    except json.JSONDecodeError as e:
        doc, code = {"error": f"{path}: --runs is not JSON: {e}"}, 1
    text = json.dumps(doc)
    if options["--output"]:
        with open(options["--output"], "w") as f:
            f.write(text)
    else:
        print(text)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
