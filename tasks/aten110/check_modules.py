"""Checks the references of tasks/aten110 against ATen with the system PyTorch.

Run: /usr/bin/python3 tasks/aten110/check_modules.py [--device cuda] [op ...]

`anvil task show` type-checks a formula task fully, but it cannot run a module
reference, and it cannot say whether a formula means what the ATen operator
means. This script does both, on every task file of this folder:

- Module tasks: imports aten_modules.py, instantiates the task's class and
  calls forward the way the worker does (inputs of every correctness shape
  and every dtype variant, then the attributes), once on f64 copies of the
  floating inputs (the correctness reference) and once on the inputs as they
  are (eager). It checks the number of outputs and each output's shape and,
  for the native call, its dtype against the task file. Where the task
  compares exactly, the f64 result cast to the declared dtype must equal the
  native one (the task's values are exact in every dtype it lists).
  A task with no inputs (arange, full, zeros, scalar_tensor) must have a
  module reference and no `layouts` / `distributions`; its forward's
  keyword-only parameters are filled by name as the worker does: a size
  symbol bound in every case -> the case's size (int), a type variable ->
  the variant's torch.dtype (torch.float64 for a floating type in the f64
  call), `device` -> the device; any other keyword-only name is a failure
  (the worker refuses to load such a module).
- Formula tasks: evaluates the formula text with torch functions (the
  formula language uses PyTorch's names) and compares it with a direct call
  of the ATen operator (ATEN below) on the same inputs: in f64 (does the
  formula compute what ATen computes?) and in the native dtypes (does it give
  ATen's result dtype and shape, and its exact values for integer and bool
  results?). Float inputs include 0, -0, +-inf and NaN where the
  task's domain allows them, beyond what the worker generates today.

Inputs follow each task's domains; integer index inputs stay in range.
A native-dtype call that PyTorch 1.13 on the CPU does not implement (some
f16/bf16 kernels) is reported as "no kernel", not as a failure: the
worker's correctness reference runs in f64, and the GPU worker has a newer
PyTorch. `--device cuda` runs every call on the GPU, as the GPU worker does.
Exit status 1 when any check fails.
"""
import importlib.util
import inspect
import itertools
import math
import pathlib
import sys
import tomllib

import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
aten = torch.ops.aten
DEVICE = "cpu"  # --device

DTYPES = {"bool": torch.bool, "u8": torch.uint8, "i8": torch.int8, "i16": torch.int16, "i32": torch.int32,
          "i64": torch.int64, "f16": torch.float16, "bf16": torch.bfloat16, "f32": torch.float32, "f64": torch.float64}

# The ATen call each formula task stands for, on a dict of inputs and a dict of attributes.
ATEN = {
    "acosh": lambda i, a: aten.acosh(i["x"]),
    "asin": lambda i, a: aten.asin(i["x"]),
    "cos": lambda i, a: aten.cos(i["x"]),
    "cosh": lambda i, a: aten.cosh(i["x"]),
    "erfc": lambda i, a: aten.erfc(i["x"]),
    "floor": lambda i, a: aten.floor(i["x"]),
    "hardsigmoid": lambda i, a: aten.hardsigmoid(i["x"]),
    "log10": lambda i, a: aten.log10(i["x"]),
    "mish": lambda i, a: aten.mish(i["x"]),
    "rsqrt": lambda i, a: aten.rsqrt(i["x"]),
    "silu": lambda i, a: aten.silu(i["x"]),
    "sin": lambda i, a: aten.sin(i["x"]),
    "neg": lambda i, a: aten.neg(i["x"]),
    "square": lambda i, a: aten.square(i["x"]),
    "sgn": lambda i, a: aten.sgn(i["x"]),
    "bitwise_not": lambda i, a: aten.bitwise_not(i["x"]),
    "add": lambda i, a: aten.add.Tensor(i["x"], i["y"]),
    "sub": lambda i, a: aten.sub.Tensor(i["x"], i["y"]),
    "mul": lambda i, a: aten.mul.Tensor(i["x"], i["y"]),
    "rsub": lambda i, a: aten.rsub.Tensor(i["x"], i["y"]),
    "div": lambda i, a: aten.div.Tensor(i["x"], i["y"]),
    "floor_divide": lambda i, a: aten.floor_divide(i["x"], i["y"]),
    "eq": lambda i, a: aten.eq.Tensor(i["x"], i["y"]),
    "gt": lambda i, a: aten.gt.Tensor(i["x"], i["y"]),
    "le": lambda i, a: aten.le.Tensor(i["x"], i["y"]),
    "pow": lambda i, a: aten.pow.Tensor_Tensor(i["x"], i["y"]),
    "fmax": lambda i, a: aten.fmax(i["x"], i["y"]),
    "logaddexp2": lambda i, a: aten.logaddexp2(i["x"], i["y"]),
    "heaviside": lambda i, a: aten.heaviside(i["x"], i["v"]),
    "special_entr": lambda i, a: aten.special_entr(i["x"]),
    "logit": lambda i, a: aten.logit(i["x"]),
    "prelu": lambda i, a: aten.prelu(i["x"], i["w"]),
    "rrelu_with_noise": lambda i, a: aten.rrelu_with_noise(i["x"], torch.empty_like(i["x"]), a["lower"], a["upper"], False),
    "rrelu_with_noise_backward": lambda i, a: aten.rrelu_with_noise_backward(
        i["g"], torch.randn_like(i["g"]), i["noise"], 0.125, 1.0 / 3.0, True, False),
    # The CPU kernel reads the buffer its forward saved; give it that one.
    "log_sigmoid_backward": lambda i, a: aten.log_sigmoid_backward(i["g"], i["x"], aten.log_sigmoid_forward(i["x"])[1]),
    "mish_backward": lambda i, a: aten.mish_backward(i["g"], i["x"]),
    "softplus_backward": lambda i, a: aten.softplus_backward(i["g"], i["x"], a["beta"], a["threshold"]),
    "smooth_l1_loss_backward": lambda i, a: aten.smooth_l1_loss_backward(i["g"], i["x"], i["y"], 0, a["beta"]),
    "add_": lambda i, a: i["x"].clone().add_(i["y"]),
    "div_": lambda i, a: i["x"].clone().div_(i["y"]),
    "masked_fill_": lambda i, a: i["x"].clone().masked_fill_(i["mask"], a["value"]),
    "_to_copy": lambda i, a: aten._to_copy(i["x"], dtype=torch.float32),
    "to": lambda i, a: i["x"].to(torch.bfloat16),
    "clone": lambda i, a: aten.clone(i["x"]),
    "amin": lambda i, a: aten.amin(i["x"], [-1]),
    "argmax": lambda i, a: aten.argmax(i["x"], -1),
    "sum": lambda i, a: aten.sum.dim_IntList(i["x"], [-1]),
    "mean": lambda i, a: aten.mean.dim(i["x"], [2, 3]),
    "_softmax": lambda i, a: aten._softmax(i["x"], -1, False),
    "softmax": lambda i, a: aten.softmax.int(i["x"], -1),
    "binary_cross_entropy_with_logits": lambda i, a: aten.binary_cross_entropy_with_logits(i["x"], i["y"]),
    "huber_loss": lambda i, a: aten.huber_loss(i["x"], i["y"], 1, a["delta"]),
    "soft_margin_loss": lambda i, a: aten.soft_margin_loss(i["x"], i["y"], 1),
    "margin_ranking_loss": lambda i, a: aten.margin_ranking_loss(i["a"], i["b"], i["y"], a["margin"], 1),
    "pairwise_distance": lambda i, a: aten.pairwise_distance(i["a"], i["b"], 2.0, a["eps"]),
    "renorm": lambda i, a: aten.renorm(i["x"], 2, 0, a["maxnorm"]),
    "mm": lambda i, a: aten.mm(i["a"], i["b"]),
    "bmm": lambda i, a: aten.bmm(i["a"], i["b"]),
    "matmul": lambda i, a: aten.matmul(i["a"], i["b"]),
}

# What the formula language's names mean, in torch.
FORMULA_NAMES = {name: getattr(torch, name) for name in [
    "acosh", "asin", "cos", "cosh", "erfc", "floor", "log10", "rsqrt", "sin", "sign", "square", "where", "isnan",
    "isinf", "maximum", "log1p", "exp2", "abs", "log", "sigmoid", "tanh", "exp", "clamp", "mean", "sum", "sqrt",
    "softmax", "amin", "argmax", "mm", "bmm"]}
FORMULA_NAMES.update(hardsigmoid=F.hardsigmoid, mish=F.mish, silu=F.silu, f32=torch.float32, f16=torch.float16,
                     bf16=torch.bfloat16)


def bind(shape, sizes):
    return [d if isinstance(d, int) else sizes[d] for d in shape]


def float_values(n, domain, gen):
    """n f64 values following a task domain, with edge values mixed in."""
    if isinstance(domain, list):
        lo, hi = domain
        v = lo + (hi - lo) * torch.rand(n, generator=gen, dtype=torch.float64)
        edges = torch.tensor([lo, hi, (lo + hi) / 2], dtype=torch.float64)
    else:
        v = torch.randn(n, generator=gen, dtype=torch.float64) * 3
        edges = torch.tensor([0.0, -0.0, 1.0, -1.0, 2.0, 30.0, -30.0, 1e-30, math.inf, -math.inf, math.nan],
                             dtype=torch.float64)
        if domain == "positive":
            v, edges = v.abs() + 1e-3, torch.tensor([1e-3, 1.0, 2.0, 30.0, 0.5], dtype=torch.float64)
        elif domain == "nonnegative":
            v, edges = v.abs(), torch.tensor([0.0, 1.0, 2.0, 30.0], dtype=torch.float64)
        elif domain == "nonzero":
            v = torch.where(v == 0, torch.ones_like(v), v)
            edges = torch.tensor([1.0, -1.0, 2.0, -0.5, 30.0, 1e-3], dtype=torch.float64)
        elif domain == "unit":
            v, edges = torch.sigmoid(v), torch.tensor([0.5, 1e-3, 0.999], dtype=torch.float64)
    if n:
        pick = torch.rand(n, generator=gen) < 0.2
        v[pick] = edges[torch.randint(len(edges), (int(pick.sum()),), generator=gen)]
    return v


def make_input(dtype, shape, domain, gen):
    n = math.prod(shape)
    if dtype.is_floating_point:
        return float_values(n, domain, gen).to(dtype).reshape(shape)
    if dtype == torch.bool:
        return (torch.rand(n, generator=gen) < 0.5).reshape(shape)
    lo, hi = (domain if isinstance(domain, list) else
              (1 if domain == "positive" else 0 if domain == "nonnegative" else -100, 100))
    if dtype == torch.uint8:
        lo = max(lo, 0)
    v = torch.randint(int(lo), int(hi) + 1, (n,), generator=gen, dtype=torch.int64)
    if domain == "nonzero":
        v = torch.where(v == 0, torch.ones_like(v), v)
    return v.to(dtype).reshape(shape)


def attr_value(a):
    v = a["value"]
    return float(v) if a["dtype"].startswith(("f", "bf")) else v


def variants(doc):
    types = doc.get("types", {})
    names = sorted(types)
    for combo in itertools.product(*(types[k] for k in names)):
        yield dict(zip(names, combo))


def resolve(dt, variant):
    return DTYPES[variant.get(dt, dt)]


def upcast(t):
    return t.to(torch.float64) if t.is_floating_point() else t


def is_missing_kernel(e):
    text = str(e)
    return "not implemented for" in text or "NotImplementedError" in type(e).__name__


class Report:
    def __init__(self):
        self.failures, self.notes, self.checked = [], [], 0

    def fail(self, op, what):
        self.failures.append(f"{op}: {what}")

    def note(self, op, what):
        self.notes.append(f"{op}: {what}")


def load_module_file(path):
    spec = importlib.util.spec_from_file_location("aten_modules", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_outputs(doc, variant, sizes):
    inputs = {i["name"]: i for i in doc.get("inputs", [])}
    out = []
    for o in doc["outputs"]:
        src = inputs.get(o.get("inplace", ""))
        dtype = o.get("dtype") or src["dtype"]
        shape = o.get("shape") if "shape" in o else src["shape"]
        out.append((o["name"], resolve(dtype, variant), bind(shape, sizes)))
    return out


def bound_symbols(doc):
    """The size symbols bound in every correctness and performance case (the worker offers these)."""
    tables = doc["correctness"]["shapes"] + doc.get("performance", {}).get("shapes", [])
    return set.intersection(*(set(t) for t in tables)) if tables else set()


def keyword_only_params(op, model, doc, rep):
    """forward's keyword-only parameter names, or None after reporting one the worker cannot fill."""
    params = [p.name for p in inspect.signature(model.forward).parameters.values()
              if p.kind == inspect.Parameter.KEYWORD_ONLY]
    symbols, types = bound_symbols(doc), set(doc.get("types", {}))
    unknown = [p for p in params if p not in symbols and p not in types and p != "device"]
    if unknown:
        rep.fail(op, f"forward's keyword-only parameter(s) {unknown} are neither a size symbol bound in every case "
                     f"{sorted(symbols)}, a type variable {sorted(types)} nor 'device': the worker refuses the module")
        return None
    return params


def keyword_args(params, doc, variant, sizes, precision, device):
    """The keyword-only arguments the worker passes for one case: sizes, dtypes, the device."""
    kwargs = {}
    for p in params:
        if p == "device":
            kwargs[p] = device
        elif p in doc.get("types", {}):
            dtype = DTYPES[variant[p]]
            kwargs[p] = torch.float64 if precision == "f64" and dtype.is_floating_point else dtype
        else:
            kwargs[p] = int(sizes[p])
    return kwargs


def check_no_input_rules(op, doc, rep):
    """A task without inputs: a module reference, nothing to lay out or draw."""
    if doc.get("inputs"):
        return
    if "reference" not in doc:
        rep.fail(op, "a task with no inputs needs a module reference ([reference] module = ...)")
    for key in ("layouts", "distributions"):
        if key in doc.get("correctness", {}):
            rep.fail(op, f"a task with no inputs cannot list [correctness] {key}: there is nothing to lay out or draw")


def same_values(a, b):
    """Equal values, NaN equal to NaN."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.is_floating_point():
        return torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())
    return torch.equal(a, b)


def check_module_task(op, doc, modules, rep):
    model = getattr(modules, doc["reference"]["class"])()
    if list(model.parameters()) or list(model.buffers()):
        rep.fail(op, "the module holds parameters or buffers")
    params = keyword_only_params(op, model, doc, rep)
    if params is None:
        return
    exact = doc.get("compare", {}).get("mode") == "exact"
    device = torch.empty(0, device=DEVICE).device  # as tensors report it (cuda:0, not cuda)
    attrs = [attr_value(a) for a in doc.get("attrs", [])]
    gen = torch.Generator().manual_seed(1)
    for variant in variants(doc):
        label = ",".join(f"{k}={v}" for k, v in variant.items())
        for sizes in doc["correctness"]["shapes"]:
            ins = [make_input(resolve(i["dtype"], variant), bind(i["shape"], sizes), i.get("domain"), gen).to(DEVICE)
                   for i in doc.get("inputs", [])]
            want = expected_outputs(doc, variant, sizes)
            results = {}
            for precision in ("f64", "native"):
                args = [upcast(t) for t in ins] if precision == "f64" else [t.clone() for t in ins]
                before = [t.clone() for t in args]
                kwargs = keyword_args(params, doc, variant, sizes, precision, device)
                try:
                    with torch.no_grad():
                        got = model(*args, *attrs, **kwargs)
                except Exception as e:  # noqa: BLE001 - every failure is reported
                    if precision == "native" and is_missing_kernel(e):
                        rep.note(op, f"{label} native: no {DEVICE} kernel in torch {torch.__version__} "
                                     f"({str(e).splitlines()[0][:90]})")
                        continue
                    rep.fail(op, f"{label} {sizes} {precision}: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
                    continue
                got = tuple(got) if isinstance(got, (tuple, list)) else (got,)
                rep.checked += 1
                if len(got) != len(want):
                    rep.fail(op, f"{label} {sizes}: {len(got)} outputs, the task declares {len(want)}")
                    continue
                for g, (name, dtype, shape) in zip(got, want):
                    if list(g.shape) != shape:
                        rep.fail(op, f"{label} {sizes} {precision}: output {name} has shape {list(g.shape)}, declared {shape}")
                    if precision == "native" and g.dtype != dtype:
                        rep.fail(op, f"{label} {sizes}: output {name} is {g.dtype}, declared {dtype}")
                    if g.device != device:
                        rep.fail(op, f"{label} {sizes} {precision}: output {name} is on {g.device}, the call on "
                                     f"{device}")
                results[precision] = got
                for b, a in zip(before, args):
                    if not torch.equal(b, a) and not (b.is_floating_point() and torch.equal(b.isnan(), a.isnan())
                                                      and torch.equal(b.nan_to_num(), a.nan_to_num())):
                        rep.fail(op, f"{label} {sizes} {precision}: the reference wrote an input")
            if exact and len(results) == 2 and all(len(r) == len(want) for r in results.values()):
                # What the worker judges against (the f64 call cast to the declared dtype) must be what
                # ATen gives natively, or the task's values are not exact in this dtype.
                for r64, rn, (name, dtype, _) in zip(results["f64"], results["native"], want):
                    if (list(r64.shape) == list(rn.shape) and rn.dtype == dtype
                            and not same_values(r64.to(dtype), rn)):
                        rep.fail(op, f"{label} {sizes}: output {name}: the f64 reference cast to {dtype} differs "
                                     f"from the native call (compare mode exact)")


def run_formula(doc, ins, attrs):
    scope = dict(FORMULA_NAMES)
    scope.update(ins)
    scope.update(attrs)
    exec(compile(doc["formula"], "formula", "exec"), {"__builtins__": {}}, scope)
    return tuple(scope[o["name"]] for o in doc["outputs"])


def close(a, b, rtol, atol):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if not a.is_floating_point():
        return torch.equal(a, b)
    a64, b64 = a.double(), b.double()
    return torch.allclose(a64, b64, rtol=rtol, atol=atol, equal_nan=True)


def check_formula_task(op, doc, rep):
    aten_fn = ATEN.get(op)
    if aten_fn is None:
        rep.fail(op, "no ATen call in check_modules.ATEN for this formula task")
        return
    attrs = {a["name"]: attr_value(a) for a in doc.get("attrs", [])}
    gen = torch.Generator().manual_seed(2)
    for variant in variants(doc):
        label = ",".join(f"{k}={v}" for k, v in variant.items())
        for sizes in doc["correctness"]["shapes"]:
            ins = {i["name"]: make_input(resolve(i["dtype"], variant), bind(i["shape"], sizes), i.get("domain"),
                                         gen).to(DEVICE)
                   for i in doc["inputs"]}
            for precision in ("f64", "native"):
                cur = {k: (upcast(v) if precision == "f64" else v.clone()) for k, v in ins.items()}
                try:
                    want = aten_fn({k: v.clone() for k, v in cur.items()}, attrs)
                except Exception as e:  # noqa: BLE001
                    if precision == "native" and is_missing_kernel(e):
                        rep.note(op, f"{label} native: no {DEVICE} kernel in torch {torch.__version__} "
                                     f"({str(e).splitlines()[0][:90]})")
                        continue
                    rep.fail(op, f"{label} {sizes} {precision} ATen call: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
                    continue
                want = tuple(want) if isinstance(want, (tuple, list)) else (want,)
                try:
                    got = run_formula(doc, cur, attrs)
                except Exception as e:  # noqa: BLE001
                    if precision == "native" and is_missing_kernel(e):
                        continue
                    rep.fail(op, f"{label} {sizes} {precision} formula: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
                    continue
                rep.checked += 1
                for g, w, o in zip(got, want, doc["outputs"]):
                    if precision == "f64":
                        # The worker casts the f64 result to the output's dtype; so does this check.
                        ok = close(g.to(w.dtype) if g.dtype != w.dtype and not w.is_floating_point() else g,
                                   w, 1e-9, 1e-12)
                    elif w.is_floating_point():
                        # Evaluated op by op in f16/bf16, the formula rounds after every step where ATen's
                        # kernel keeps f32 inside (and the worker evaluates it in f64): only dtype and
                        # shape are compared here; the values were compared in f64 above.
                        ok = g.dtype == w.dtype and g.shape == w.shape
                    else:
                        ok = close(g, w, 0, 0)
                    if not ok:
                        diff = ""
                        if g.shape == w.shape and g.is_floating_point() and w.is_floating_point():
                            bad = ~torch.isclose(g.double(), w.double(), rtol=1e-9, atol=1e-12, equal_nan=True)
                            idx = bad.nonzero()[:1].tolist()
                            if idx:
                                ix = tuple(idx[0])
                                diff = f"; first at {list(ix)}: formula {g[ix].item()} ATen {w[ix].item()}"
                        rep.fail(op, f"{label} {sizes} {precision}: output {o['name']} formula {g.dtype}{list(g.shape)} "
                                     f"vs ATen {w.dtype}{list(w.shape)}{diff}")


def main(argv):
    global DEVICE
    args = argv[1:]
    if args[:1] == ["--device"]:
        DEVICE, args = args[1], args[2:]
    only = set(args)
    modules = load_module_file(HERE / "aten_modules.py")
    rep = Report()
    counts = {"formula": 0, "module": 0}
    for path in sorted(HERE.glob("*.toml")):
        op = path.stem
        if only and op not in only:
            continue
        with open(path, "rb") as f:
            doc = tomllib.load(f)
        check_no_input_rules(op, doc, rep)
        if "reference" in doc:
            counts["module"] += 1
            check_module_task(op, doc, modules, rep)
        else:
            counts["formula"] += 1
            check_formula_task(op, doc, rep)
    print(f"torch {torch.__version__} on {DEVICE}: {counts['formula']} formula tasks checked against ATen, "
          f"{counts['module']} module tasks run; {rep.checked} calls compared")
    notes = sorted(set(rep.notes))
    if notes:
        print(f"\n{len(notes)} native-dtype calls without a {DEVICE} kernel (not failures):")
        for n in notes:
            print("  " + n)
    if rep.failures:
        print(f"\n{len(rep.failures)} FAILURES:")
        for f in rep.failures:
            print("  " + f)
        return 1
    print("\nno failures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
