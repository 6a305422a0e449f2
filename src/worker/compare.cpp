#include "worker/compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/scalar.h"
#include "worker/guarded_buffer.h"
#include "worker/input_gen.h"

namespace anvil::worker {
namespace {

constexpr int64_t kChunk = int64_t{1} << 20;
constexpr size_t kMaxReported = 5;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string TypeName(at::ScalarType t) {
  if (auto d = FromAten(t)) return std::string(DTypeName(*d));
  return c10::toString(t);
}

std::string IndexString(const std::vector<int64_t>& index) {
  return "[" + fmt::format("{}", fmt::join(index, ", ")) + "]";
}

std::string Number(double v) { return ElementToString(v); }

// The comparison's working representation: f64 for floating outputs (exact
// upcast), i64 for integers and bool (bool through its bytes, so invalid
// bools stay visible).
at::Tensor ToWork(const at::Tensor& t) {
  if (t.scalar_type() == at::kBool) return t.view(at::kByte).to(at::kLong);
  return at::isFloatingType(t.scalar_type()) ? t.to(at::kDouble) : t.to(at::kLong);
}

// Positions of the first `limit` true values of a contiguous bool tensor.
std::vector<int64_t> FirstTrue(const at::Tensor& mask, size_t limit) {
  std::vector<int64_t> out;
  const auto* base = static_cast<const uint8_t*>(mask.data_ptr());
  const int64_t n = mask.numel();
  const uint8_t* p = base;
  while (out.size() < limit) {
    p = static_cast<const uint8_t*>(std::memchr(p, 1, static_cast<size_t>(n - (p - base))));
    if (p == nullptr) break;
    out.push_back(p - base);
    ++p;
    if (p - base >= n) break;
  }
  return out;
}

struct Accumulator {
  int64_t mismatches = 0, nan_extra = 0, nan_missing = 0, inf_wrong = 0;
  double max_abs = 0, max_rel = 0, worst_ratio = -1;
  int64_t worst_flat = -1;
  std::vector<int64_t> first_flat;
};

}  // namespace

CompareResult Compare(const at::Tensor& expected, const at::Tensor& actual, const Tolerance& tol, CompareMode mode,
                      int64_t unordered_dim) {
  CompareResult r;
  r.numel = expected.numel();
  if (expected.scalar_type() != actual.scalar_type()) {
    r.reason = fmt::format("output dtype {}, expected {}", TypeName(actual.scalar_type()),
                           TypeName(expected.scalar_type()));
    return r;
  }
  if (expected.sizes() != actual.sizes()) {
    r.reason = fmt::format("shape {} but expected {}", IndexString(actual.sizes().vec()),
                           IndexString(expected.sizes().vec()));
    return r;
  }
  const at::IntArrayRef sizes = expected.sizes();
  const bool floating = at::isFloatingType(expected.scalar_type());
  const bool exact = tol.exact || mode == CompareMode::kExact || !floating;
  if (r.numel == 0) {
    r.ok = true;
    return r;
  }

  // Flattened, contiguous views in the original dtype (bits intact for the
  // poison check) or, for unordered comparisons, sorted working copies.
  at::Tensor e = expected.contiguous().view(-1);
  at::Tensor a = actual.contiguous().view(-1);
  std::string note;
  bool sorted = false;
  if (mode == CompareMode::kUnordered && expected.dim() > 0) {
    int64_t dim = unordered_dim < 0 ? unordered_dim + expected.dim() : unordered_dim;
    if (dim < 0 || dim >= expected.dim()) {
      r.reason = fmt::format("unordered_dim {} is out of range for an output of rank {}", unordered_dim,
                             expected.dim());
      return r;
    }
    // at::sort places NaN after every number in ascending order.
    e = std::get<0>(at::sort(ToWork(expected), dim)).contiguous().view(-1);
    a = std::get<0>(at::sort(ToWork(actual), dim)).contiguous().view(-1);
    note = fmt::format(" (after sorting along dim {})", dim);
    sorted = true;
  }

  Accumulator acc;
  for (int64_t start = 0; start < r.numel; start += kChunk) {
    const int64_t len = std::min(kChunk, r.numel - start);
    at::Tensor ec = ToWork(e.slice(0, start, start + len));
    at::Tensor ac = ToWork(a.slice(0, start, start + len));
    at::Tensor mismatch, ratio;
    if (exact) {
      at::Tensor equal = ec.eq(ac);
      if (floating) equal = equal | (at::isnan(ec) & at::isnan(ac));
      mismatch = equal.logical_not();
    } else {
      at::Tensor err = (ac - ec).abs();
      at::Tensor allowed = tol.atol + tol.rtol * ec.abs();
      at::Tensor finite = at::isfinite(ec) & at::isfinite(ac);
      at::Tensor nonfinite_match = (at::isnan(ec) & at::isnan(ac)) | ec.eq(ac);
      ratio = at::where(err.eq(0), at::zeros_like(err), err / allowed);
      ratio = at::where(finite, ratio, at::where(nonfinite_match, at::zeros_like(err), at::full_like(err, kInf)));
      mismatch = ratio > 1.0;
      at::Tensor err_finite = at::where(finite, err, at::zeros_like(err));
      acc.max_abs = std::max(acc.max_abs, err_finite.max().item<double>());
      at::Tensor rel = at::where(finite & ec.ne(0), err_finite / ec.abs(), at::zeros_like(err));
      acc.max_rel = std::max(acc.max_rel, rel.max().item<double>());
      int64_t arg = ratio.argmax().item<int64_t>();
      double worst = ratio[arg].item<double>();
      if (worst > acc.worst_ratio) {
        acc.worst_ratio = worst;
        acc.worst_flat = start + arg;
      }
    }
    const int64_t bad = mismatch.sum().item<int64_t>();
    if (bad == 0) continue;
    acc.mismatches += bad;
    if (floating) {
      acc.nan_extra += (at::isnan(ac) & ~at::isnan(ec)).sum().item<int64_t>();
      acc.nan_missing += (at::isnan(ec) & ~at::isnan(ac)).sum().item<int64_t>();
      acc.inf_wrong += (mismatch & (at::isinf(ec) | at::isinf(ac)) & ~at::isnan(ec) & ~at::isnan(ac)).sum().item<int64_t>();
    }
    if (exact && acc.worst_flat < 0) {
      acc.worst_ratio = kInf;
      acc.worst_flat = start + FirstTrue(mismatch.contiguous(), 1).front();
    }
    if (acc.first_flat.size() < kMaxReported)
      for (int64_t i : FirstTrue(mismatch.contiguous(), kMaxReported - acc.first_flat.size()))
        acc.first_flat.push_back(start + i);
  }

  auto value_at = [&](int64_t flat) { return ToWork(e.slice(0, flat, flat + 1)).to(at::kDouble).item<double>(); };
  auto actual_at = [&](int64_t flat) { return ToWork(a.slice(0, flat, flat + 1)).to(at::kDouble).item<double>(); };
  r.mismatches = acc.mismatches;
  r.max_abs_err = acc.max_abs;
  r.max_rel_err = acc.max_rel;
  if (acc.worst_flat >= 0) {
    r.worst_index = Unravel(acc.worst_flat, sizes);
    r.worst_ratio = acc.worst_ratio;
  }
  for (int64_t flat : acc.first_flat) r.first_mismatches.push_back({Unravel(flat, sizes), value_at(flat), actual_at(flat)});
  if (acc.mismatches == 0) {
    r.ok = true;
    return r;
  }

  // One element, in words: "NaN where the reference is 0.25", "expected 1 got 2".
  auto describe = [&](int64_t flat) {
    double want = value_at(flat), got = actual_at(flat);
    bool poison = !sorted && (floating || expected.scalar_type() == at::kBool) &&
                  IsPoisonElement(static_cast<const uint8_t*>(a.data_ptr()) + flat * a.element_size(), a.scalar_type());
    std::string where = IndexString(Unravel(flat, sizes));
    if (poison) return fmt::format("{}: never written (still the poison value) where the reference is {}", where,
                                   Number(want));
    if (std::isnan(got) && !std::isnan(want)) return fmt::format("{}: NaN where the reference is {}", where, Number(want));
    return fmt::format("{}: expected {} got {}", where, Number(want), Number(got));
  };

  std::string rule = exact ? "exact comparison" : fmt::format("rtol={:.2g}, atol={:.2g}", tol.rtol, tol.atol);
  r.reason = fmt::format("{} of {} elements differ beyond tolerance ({}){}", acc.mismatches, r.numel, rule, note);
  std::vector<std::string> kinds;
  if (acc.nan_extra) kinds.push_back(fmt::format("{} NaN where the reference is a number", acc.nan_extra));
  if (acc.nan_missing) kinds.push_back(fmt::format("{} numbers where the reference is NaN", acc.nan_missing));
  if (acc.inf_wrong) kinds.push_back(fmt::format("{} with a wrong infinity", acc.inf_wrong));
  if (!kinds.empty()) r.reason += fmt::format(", including {}", fmt::join(kinds, ", "));
  r.reason += "; first at " + describe(acc.first_flat.front());
  if (!exact && acc.worst_flat != acc.first_flat.front()) {
    r.reason += "; worst at " + describe(acc.worst_flat);
    if (std::isfinite(acc.worst_ratio)) r.reason += fmt::format(" ({:.3g}x the allowed error)", acc.worst_ratio);
  }
  return r;
}

bool BitwiseEqual(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  if (a.numel() == 0) return true;
  at::Tensor ac = a.contiguous(), bc = b.contiguous();
  return std::memcmp(ac.data_ptr(), bc.data_ptr(), static_cast<size_t>(ac.numel()) * ac.element_size()) == 0;
}

bool IsConstant(const at::Tensor& t) {
  if (t.numel() <= 1) return false;
  at::Tensor flat = t.scalar_type() == at::kBool ? t.contiguous().view(at::kByte).view(-1) : t.reshape(-1);
  at::Tensor first = flat[0];
  if (at::isFloatingType(flat.scalar_type()) && at::isnan(first).item<bool>()) return at::isnan(flat).all().item<bool>();
  return flat.eq(first).all().item<bool>();
}

double OutputScale(const at::Tensor& expected) {
  if (expected.numel() == 0) return 0.0;
  if (!at::isFloatingType(expected.scalar_type()))
    return (expected.scalar_type() == at::kBool ? expected.to(at::kLong) : expected).abs().max().item<double>();
  // In the output dtype: the maximum is exact and no f64 copy of a large output is made.
  return at::where(at::isfinite(expected), expected.abs(), at::zeros_like(expected)).max().item<double>();
}

std::vector<int64_t> Unravel(int64_t flat, at::IntArrayRef sizes) {
  std::vector<int64_t> index(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    index[d] = flat % sizes[d];
    flat /= sizes[d];
  }
  return index;
}

}  // namespace anvil::worker
