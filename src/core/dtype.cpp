#include "core/dtype.h"

#include <array>

namespace anvil {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  DTypeCategory category;
  int size;
  DLTypeCode dl;
  std::array<std::string_view, 3> aliases;  // PyTorch spellings
};

// The catalog of element types; every other function reads this table.
constexpr std::array<DTypeInfo, 10> kInfo = {{
    {DType::kBool, "bool", DTypeCategory::kBool, 1, {6, 8}, {"torch.bool", "", ""}},
    {DType::kU8, "u8", DTypeCategory::kInteger, 1, {1, 8}, {"uint8", "torch.uint8", ""}},
    {DType::kI8, "i8", DTypeCategory::kInteger, 1, {0, 8}, {"int8", "torch.int8", ""}},
    {DType::kI16, "i16", DTypeCategory::kInteger, 2, {0, 16}, {"int16", "short", "torch.int16"}},
    {DType::kI32, "i32", DTypeCategory::kInteger, 4, {0, 32}, {"int32", "int", "torch.int32"}},
    {DType::kI64, "i64", DTypeCategory::kInteger, 8, {0, 64}, {"int64", "long", "torch.int64"}},
    {DType::kF16, "f16", DTypeCategory::kFloating, 2, {2, 16}, {"float16", "half", "torch.float16"}},
    {DType::kBF16, "bf16", DTypeCategory::kFloating, 2, {4, 16}, {"bfloat16", "torch.bfloat16", ""}},
    {DType::kF32, "f32", DTypeCategory::kFloating, 4, {2, 32}, {"float32", "float", "torch.float32"}},
    {DType::kF64, "f64", DTypeCategory::kFloating, 8, {2, 64}, {"float64", "double", "torch.float64"}},
}};

const DTypeInfo& Info(DType t) { return kInfo[static_cast<size_t>(t)]; }

}  // namespace

std::string_view DTypeName(DType t) { return Info(t).name; }

std::optional<DType> ParseDType(std::string_view s) {
  for (const auto& info : kInfo) {
    if (s == info.name) return info.type;
    for (auto alias : info.aliases)
      if (!alias.empty() && s == alias) return info.type;
  }
  return std::nullopt;
}

std::string DTypeNameList() {
  std::string out;
  for (const auto& info : kInfo) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

std::vector<DType> AllDTypes() {
  std::vector<DType> out;
  for (const auto& info : kInfo) out.push_back(info.type);
  return out;
}

DTypeCategory Category(DType t) { return Info(t).category; }
int ItemSize(DType t) { return Info(t).size; }
DLTypeCode ToDLType(DType t) { return Info(t).dl; }

DType PromoteTypes(DType a, DType b) {
  if (a == b) return a;
  DTypeCategory ca = Category(a), cb = Category(b);
  if (ca != cb) return ca > cb ? a : b;
  if (ca == DTypeCategory::kFloating) {
    bool half_pair = (a == DType::kF16 && b == DType::kBF16) || (a == DType::kBF16 && b == DType::kF16);
    if (half_pair) return DType::kF32;
    return static_cast<uint8_t>(a) > static_cast<uint8_t>(b) ? a : b;
  }
  // Integers: u8 with a signed type needs a wider signed type (torch rule).
  if (a == DType::kU8 || b == DType::kU8) {
    DType other = a == DType::kU8 ? b : a;
    return other == DType::kI8 ? DType::kI16 : other;
  }
  return static_cast<uint8_t>(a) > static_cast<uint8_t>(b) ? a : b;
}

}  // namespace anvil
