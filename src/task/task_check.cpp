#include "task/task_check.h"

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "task/task_graph.h"

namespace anvil {
namespace {

Status CheckNames(const Task& task) {
  std::set<std::string> seen;
  auto add = [&](const std::string& n, const char* kind) -> Status {
    if (!seen.insert(n).second) return InvalidInput(fmt::format("{} name '{}' is used twice", kind, n));
    return Status::Ok();
  };
  for (const auto& i : task.inputs) ANVIL_RETURN_IF_ERROR(add(i.name, "input"));
  for (const auto& a : task.attrs) ANVIL_RETURN_IF_ERROR(add(a.name, "attribute"));
  std::set<std::string> outs;
  for (const auto& o : task.outputs)
    if (!outs.insert(o.name).second) return InvalidInput(fmt::format("output name '{}' is used twice", o.name));
  return Status::Ok();
}

Status CheckShapesBound(const Task& task, const std::vector<Bindings>& shapes, const char* section) {
  for (size_t c = 0; c < shapes.size(); ++c) {
    for (const auto& in : task.inputs) {
      auto r = Concretize(in.shape, shapes[c]);
      if (!r.ok())
        return InvalidInput(fmt::format("[{}] shape #{} ({}): input '{}' {}", section, c + 1,
                                        BindingsToString(shapes[c]), in.name, r.status().message()));
    }
    for (const auto& out : task.outputs) {
      if (!out.shape) continue;
      auto r = Concretize(*out.shape, shapes[c]);
      if (!r.ok())
        return InvalidInput(fmt::format("[{}] shape #{} ({}): output '{}' {}", section, c + 1,
                                        BindingsToString(shapes[c]), out.name, r.status().message()));
    }
  }
  return Status::Ok();
}

// What a module reference needs that a formula would have inferred: output
// dtypes and shapes, and the reduction length's dims bound in every case.
Status CheckModuleTask(const Task& task) {
  for (const DTypeVariant& variant : task.Variants()) ANVIL_RETURN_IF_ERROR(TaskOutputs(task, variant).status());
  if (task.compare.reduction_dims)
    for (const auto* shapes : {&task.correctness.shapes, &task.performance.shapes})
      for (const Bindings& b : *shapes)
        if (auto r = Concretize(*task.compare.reduction_dims, b); !r.ok())
          return InvalidInput(fmt::format("[compare] reduction_length at {}: {}", BindingsToString(b),
                                          r.status().message()));
  return Status::Ok();
}

// Whether an input's value domain holds any value of its dtype (the worker
// could not generate inputs otherwise).
Status CheckDomain(const TaskInput& in, DType dtype) {
  const ValueDomain& d = in.domain;
  auto fail = [&](const std::string& why) {
    return InvalidInput(fmt::format("input '{}': domain {} {} for dtype {}", in.name, d.ToString(), why,
                                    DTypeName(dtype)));
  };
  if (IsFloating(dtype)) {
    static const std::map<DType, double> kMax = {
        {DType::kF16, 65504.0}, {DType::kBF16, 3.3895313892515355e38}, {DType::kF32, 3.4028234663852886e38},
        {DType::kF64, 1.7976931348623157e308}};
    if (d.kind == ValueDomain::Kind::kRange && (d.lo < -kMax.at(dtype) || d.hi > kMax.at(dtype)))
      return fail("exceeds the finite range");
    return Status::Ok();
  }
  double lo = dtype == DType::kBool || dtype == DType::kU8 ? 0 : -1e18, hi = dtype == DType::kBool ? 1 : 1e18;
  switch (d.kind) {
    case ValueDomain::Kind::kUnit: return fail("(strictly between 0 and 1) has no values");
    case ValueDomain::Kind::kRange:
      if (std::ceil(std::max(d.lo, lo)) > std::floor(std::min(d.hi, hi))) return fail("holds no integer");
      return Status::Ok();
    default: return Status::Ok();
  }
}

// A random operator's task (mode = "statistical"): a module reference (no
// formula draws random numbers), an integer seed attribute, and for every
// output a distribution whose parameters resolve for every dtype variant;
// continuous distributions only on floating outputs. Outside that mode no
// output may carry a distribution, which would be silently ignored.
Status CheckStatisticalTask(const Task& task) {
  if (task.compare.mode != CompareMode::kStatistical) {
    for (const TaskOutput& o : task.outputs)
      if (o.distribution)
        return InvalidInput(fmt::format("output '{}' has a distribution, which only a task with [compare] mode = "
                                        "\"statistical\" uses",
                                        o.name));
    return Status::Ok();
  }
  if (!task.module)
    return InvalidInput("a statistical task's reference is a PyTorch module ([reference] module = \"...\"): the "
                        "formula language has no random operators");
  if (task.compare.seed_attr.empty())
    return InvalidInput("a statistical task names its seed attribute: [compare] seed = \"seed\", with an [[attrs]] "
                        "entry name = \"seed\", dtype = \"i64\", value = 0 (the harness sets it per case)");
  const TaskAttr* seed = nullptr;
  for (const TaskAttr& a : task.attrs)
    if (a.name == task.compare.seed_attr) seed = &a;
  if (seed == nullptr)
    return InvalidInput(fmt::format("[compare] seed = \"{0}\" names no attribute: add [[attrs]] name = \"{0}\", "
                                    "dtype = \"i64\", value = 0",
                                    task.compare.seed_attr));
  if (!IsIntegral(seed->value.dtype) || seed->value.dtype == DType::kBool)
    return InvalidInput(fmt::format("the seed attribute '{}' is {}; it must be an integer (i32 or i64)", seed->name,
                                    DTypeName(seed->value.dtype)));
  for (const DTypeVariant& variant : task.Variants()) {
    ANVIL_ASSIGN_OR_RETURN(std::vector<formula::OutputInfo> outs, TaskOutputs(task, variant));
    for (size_t j = 0; j < task.outputs.size(); ++j) {
      const TaskOutput& o = task.outputs[j];
      if (!o.distribution)
        return InvalidInput(fmt::format("output '{}' of a statistical task needs distribution = \"...\", e.g. "
                                        "\"bernoulli(p)\"",
                                        o.name));
      if (!IsDiscrete(o.distribution->kind) && !IsFloating(outs[j].dtype))
        return InvalidInput(fmt::format("output '{}' is {} but {} is continuous: it needs a floating dtype", o.name,
                                        DTypeName(outs[j].dtype), o.distribution->text));
      for (const std::string& expr : o.distribution->params) {
        auto p = ResolveDistributionParam(task, variant, expr);
        if (!p.ok())
          return p.status().Context(fmt::format("output '{}' ({}), dtypes {}", o.name, o.distribution->text,
                                                variant.Label()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckTask(const Task& task) {
  ANVIL_RETURN_IF_ERROR(CheckNames(task));
  ANVIL_RETURN_IF_ERROR(CheckShapesBound(task, task.correctness.shapes, "correctness"));
  ANVIL_RETURN_IF_ERROR(CheckShapesBound(task, task.performance.shapes, "performance"));
  if (task.module) ANVIL_RETURN_IF_ERROR(CheckModuleTask(task));
  ANVIL_RETURN_IF_ERROR(CheckStatisticalTask(task));

  for (const DTypeVariant& variant : task.Variants()) {
    for (size_t i = 0; i < task.inputs.size(); ++i)
      ANVIL_RETURN_IF_ERROR(CheckDomain(task.inputs[i], variant.input_dtypes[i]));
    auto resolved = TaskOutputs(task, variant);
    if (!resolved.ok()) return resolved.status().Context(fmt::format("dtypes {}", variant.Label()));
    const std::vector<formula::OutputInfo>& outs = *resolved;
    for (size_t i = 0; i < task.outputs.size(); ++i) {
      const TaskOutput& o = task.outputs[i];
      const formula::OutputInfo& info = outs[i];
      if (o.shape && *o.shape != info.shape)
        return InvalidInput(fmt::format("output '{}' is declared {} but the formula computes {}", o.name,
                                        ShapeToString(*o.shape), ShapeToString(info.shape)));
      if (o.dtype) {
        auto tv = variant.type_vars.find(*o.dtype);
        DType want = tv != variant.type_vars.end() ? tv->second : *ParseDType(*o.dtype);
        if (want != info.dtype)
          return InvalidInput(fmt::format("output '{}' is declared {} but the formula computes {} (dtypes {})", o.name,
                                          DTypeName(want), DTypeName(info.dtype), variant.Label()));
      }
      if (o.inplace) {
        int idx = task.InputIndex(*o.inplace);
        const TaskInput& in = task.inputs[idx];
        if (variant.input_dtypes[idx] != info.dtype || in.shape != info.shape)
          return InvalidInput(fmt::format("output '{}' is in place on '{}' but has {}{} while the input is {}{}",
                                          o.name, in.name, DTypeName(info.dtype), ShapeToString(info.shape),
                                          DTypeName(variant.input_dtypes[idx]), ShapeToString(in.shape)));
      }
      if (task.compare.mode == CompareMode::kUnordered) {
        int64_t rank = static_cast<int64_t>(info.shape.size());
        int64_t d = task.compare.unordered_dim;
        if (rank == 0 || d < -rank || d >= rank)
          return InvalidInput(fmt::format("compare.unordered_dim {} is out of range for output '{}' of rank {}", d,
                                          o.name, rank));
      }
    }
  }
  return Status::Ok();
}

}  // namespace anvil
