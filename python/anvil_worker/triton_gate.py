"""The static gate over a Triton candidate's source (pure `ast`, imports nothing).

A Triton candidate is a Python file with a top-level `def anvil_kernel(...)`
that launches its own `@triton.jit` kernels. PyTorch is there only to allocate
and to read metadata; all computation must happen in the jit kernels, or the
candidate would be timing PyTorch instead of itself. This gate rejects what the
source shows outright: other imports, dynamic code and attribute lookup
(eval, getattr, dunder attributes), torch functions outside an allowlist and
tensor methods that compute or copy. It cannot see every tensor operator
(`x * y`, `out[:] = x`): the worker's run-time check (bridge.launched_kernels)
catches kernels that are not the candidate's own.

`check_source` returns a list of Violation(line, message); line 0 means the
file as a whole. A file that does not parse raises SyntaxError.
"""
import ast
from typing import List, NamedTuple, Optional

ALLOWED_MODULES = ("torch", "triton", "triton.language", "math")

# torch.<name> a candidate may use: allocation without initialisation, dtypes,
# devices and types for annotations. Everything else in torch computes,
# copies, or reaches devices and streams the harness owns.
TORCH_ALLOWED = frozenset({
    "empty", "empty_like", "empty_strided",
    "float32", "float", "float16", "half", "bfloat16", "float64", "double",
    "int32", "int", "int64", "long", "int16", "short", "int8", "uint8", "bool",
    "dtype", "device", "Size", "Tensor",
})

FORBIDDEN_BUILTINS = frozenset({
    "eval", "exec", "compile", "__import__", "getattr", "setattr", "delattr", "vars",
    "globals", "locals", "open", "breakpoint", "input",
})

# Tensor methods that compute, copy or fill (outside @triton.jit kernels).
# In-place variants (name + "_") are added below; metadata (shape, stride,
# dtype, device, numel, is_contiguous, element_size, data_ptr, dim, size,
# ndim) and views (view, transpose, permute, ...) are not listed.
_COMPUTE_BASE = {
    "abs", "acos", "acosh", "add", "addbmm", "addcdiv", "addcmul", "addmm", "addmv", "addr", "all",
    "allclose", "amax", "amin", "aminmax", "angle", "any", "apply", "argmax", "argmin", "argsort",
    "asin", "asinh", "atan", "atan2", "atanh", "baddbmm", "bernoulli", "bfloat16", "bincount",
    "bmm", "bool", "byte", "cauchy", "ceil", "char", "cholesky", "clamp", "clamp_max", "clamp_min",
    "clip", "clone", "contiguous", "copy", "cos", "cosh", "count_nonzero", "cpu", "cross", "cuda",
    "cummax", "cummin", "cumprod", "cumsum", "deg2rad", "diag", "diag_embed", "diagonal_scatter",
    "diff", "digamma", "dist", "div", "divide", "dot", "double", "eq", "equal", "erf", "erfc",
    "erfinv", "exp", "exp2", "expm1", "exponential", "fill", "fill_diagonal", "fix", "flatten",
    "flip", "fliplr", "flipud", "float", "float_power", "floor", "floor_divide", "fmax", "fmin",
    "fmod", "frac", "gather", "gcd", "ge", "geometric", "ger", "greater", "greater_equal", "gt",
    "half", "hardshrink", "heaviside", "histc", "hypot", "i0", "inner", "int", "inverse", "isclose",
    "isfinite", "isinf", "isnan", "item", "kron", "kthvalue", "lcm", "ldexp", "le", "lerp", "less",
    "less_equal", "lgamma", "log", "log10", "log1p", "log2", "log_normal", "log_softmax", "logaddexp",
    "logaddexp2", "logcumsumexp", "logdet", "logit", "logsumexp", "long", "lt", "map", "matmul",
    "matrix_exp", "matrix_power", "max", "maximum", "mean", "median", "min", "minimum", "mm", "mode",
    "msort", "mul", "multiply", "mv", "mvlgamma", "nan_to_num", "nanmean", "nanmedian", "nanquantile",
    "nansum", "ne", "neg", "negative", "new_full", "new_ones", "new_tensor", "new_zeros",
    "nextafter", "nonzero", "norm", "normal", "not_equal", "numpy", "outer", "pin_memory", "polygamma",
    "pow", "prod", "put", "quantile", "rad2deg", "random", "ravel", "reciprocal", "relu", "remainder",
    "renorm", "repeat", "repeat_interleave", "reshape", "reshape_as", "resize", "resize_as", "roll",
    "rot90", "round", "rsqrt", "select_scatter", "sgn", "short", "sigmoid", "sign", "signbit", "sin",
    "sinc", "sinh", "slice_scatter", "softmax", "sort", "sqrt", "square", "std", "sub", "subtract",
    "sum", "sum_to_size", "take", "take_along_dim", "tan", "tanh", "tensor_split", "tile", "to",
    "tolist", "topk", "trace", "tril", "triu", "true_divide", "trunc", "type", "type_as", "uniform",
    "unique", "unique_consecutive", "var", "vdot", "where", "xlogy", "zero",
}
_COMPUTE_PREFIXES = ("index_", "scatter", "masked_", "bitwise_", "logical_")
COMPUTE_METHODS = frozenset(_COMPUTE_BASE | {name + "_" for name in _COMPUTE_BASE})

# Dunder names a candidate may read: `if __name__ == "__main__":` is harmless.
_ALLOWED_DUNDER_NAMES = frozenset({"__name__"})

_TORCH_SPECIAL = {
    "cuda": "torch.cuda is not allowed: the harness owns devices and streams, and Triton launches on "
            "the current stream already; remove the torch.cuda call",
    "zeros": "torch.zeros fills memory with a PyTorch kernel; allocate with torch.empty and write "
             "every element in a @triton.jit kernel",
    "ones": "torch.ones fills memory with a PyTorch kernel; allocate with torch.empty and write "
            "every element in a @triton.jit kernel",
}


class Violation(NamedTuple):
    line: int  # 1-based; 0 for the file as a whole
    message: str


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _is_compute_method(name: str) -> bool:
    return name in COMPUTE_METHODS or name.startswith(_COMPUTE_PREFIXES)


class _Gate(ast.NodeVisitor):
    def __init__(self) -> None:
        self.violations: List[Violation] = []
        self.aliases = {}          # local name -> module it is bound to ("torch", "triton", ...)
        self.jit_names = set()     # local names bound to triton.jit itself (from triton import jit)
        self.jit_depth = 0         # > 0 inside a @triton.jit function
        self.kernel_count = 0

    def report(self, node: ast.AST, message: str) -> None:
        self.violations.append(Violation(getattr(node, "lineno", 0), message))

    # -- imports ----------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                self.report(node, f"import of '{alias.name}' is not allowed; a candidate may import only "
                                  f"{', '.join(ALLOWED_MODULES)}")
                continue
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:  # `import triton.language` binds `triton`
                root = alias.name.split(".")[0]
                self.aliases[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module not in ALLOWED_MODULES:
            self.report(node, f"import from '{'.' * node.level}{module}' is not allowed; a candidate may "
                              f"import only {', '.join(ALLOWED_MODULES)}")
            return
        for alias in node.names:
            local = alias.asname or alias.name
            if module == "torch" and alias.name not in TORCH_ALLOWED:
                self.report(node, self._torch_message(alias.name))
                continue
            if alias.name == "*":
                self.report(node, f"'from {module} import *' hides which names the candidate uses; "
                                  "import the names explicitly")
                continue
            full = f"{module}.{alias.name}"
            if full in ALLOWED_MODULES:
                self.aliases[local] = full
            elif full == "triton.jit":
                self.jit_names.add(local)

    # -- names and attributes ---------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_BUILTINS:
            self.report(node, f"{node.id}() is not allowed in a candidate: dynamic code and dynamic "
                              "attribute lookup hide what the candidate runs; write the code out directly")
        elif _is_dunder(node.id) and node.id not in _ALLOWED_DUNDER_NAMES:
            self.report(node, f"'{node.id}' is not allowed: dunder names reach interpreter internals")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        module = self._module_of(node.value)
        if _is_dunder(node.attr):
            self.report(node, f"attribute '{node.attr}' is not allowed: dunder attributes reach "
                              "interpreter internals")
        elif module == "torch":
            if node.attr not in TORCH_ALLOWED:
                self.report(node, self._torch_message(node.attr))
                return  # one message for torch.cuda.synchronize, not two
        elif module is None and self.jit_depth == 0 and _is_compute_method(node.attr):
            self.report(node, f".{node.attr}() is a PyTorch tensor operation; outside @triton.jit kernels a "
                              "candidate may only allocate and read metadata (shape, stride, dtype, device, "
                              "numel, ...); do this computation in a @triton.jit kernel")
        self.generic_visit(node)

    def _module_of(self, node: ast.AST) -> Optional[str]:
        """The allowed module an expression names (torch, triton, triton.language, math), if any."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            parent = self._module_of(node.value)
            if parent is not None and f"{parent}.{node.attr}" in ALLOWED_MODULES:
                return f"{parent}.{node.attr}"
            if parent is not None and parent.startswith("triton"):
                return parent  # triton.language.math.x, triton.runtime...: Triton's own namespace
        return None

    @staticmethod
    def _torch_message(name: str) -> str:
        if name in _TORCH_SPECIAL:
            return _TORCH_SPECIAL[name]
        return (f"torch.{name} computes with PyTorch; candidates compute only in @triton.jit kernels "
                "(torch is allowed for allocation and metadata: torch.empty, torch.empty_like, "
                "torch.empty_strided, dtypes, torch.device)")

    # -- functions --------------------------------------------------------
    def _is_jit_decorator(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Name):
            return node.id in self.jit_names
        return (isinstance(node, ast.Attribute) and node.attr == "jit"
                and self._module_of(node.value) == "triton")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        is_jit = any(self._is_jit_decorator(d) for d in node.decorator_list)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.kernel_count += is_jit
        self.jit_depth += is_jit
        for child in (node.args, *node.body):
            self.visit(child)
        if node.returns is not None:
            self.visit(node.returns)
        self.jit_depth -= is_jit

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.report(node, "async functions are not allowed in a candidate")


def check_source(source: str, filename: str = "<candidate>") -> List[Violation]:
    """Violations of the candidate rules in `source`, in line order. Raises SyntaxError."""
    tree = ast.parse(source, filename=filename)
    gate = _Gate()
    gate.visit(tree)
    # A missing anvil_kernel entry is not a rule violation but a load error:
    # bridge.load_candidate reports it after import.
    if gate.kernel_count == 0:
        gate.violations.append(Violation(0, "no @triton.jit function: a Triton candidate computes in its "
                                            "own @triton.jit kernels, launched from anvil_kernel"))
    return sorted(gate.violations, key=lambda v: v.line)


def format_violations(filename: str, violations: List[Violation]) -> str:
    """One line per violation: `file:line: message` (`file: message` for the whole file)."""
    return "\n".join(f"{filename}:{v.line}: {v.message}" if v.line else f"{filename}: {v.message}"
                     for v in violations)
