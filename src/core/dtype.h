// DType: the element types Anvil tasks, formulas and candidates speak.
//
// Names follow the short spelling used in task files and formulas ("f32",
// "bf16", "i64", "bool"); ParseDType also accepts PyTorch's long names
// ("float32", "bfloat16", "int64", "half", "float", ...).
// Promotion follows torch.result_type for two tensors: categories order
// bool < integer < floating; within a category the wider type wins, and
// f16 with bf16 gives f32. Scalar literals are handled by the formula layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anvil {

enum class DType : uint8_t { kBool, kU8, kI8, kI16, kI32, kI64, kF16, kBF16, kF32, kF64 };

enum class DTypeCategory : uint8_t { kBool, kInteger, kFloating };

std::string_view DTypeName(DType t);               // "f32"
std::optional<DType> ParseDType(std::string_view);  // nullopt when unknown
std::string DTypeNameList();                        // "bool, u8, ..., f64" for error messages
std::vector<DType> AllDTypes();

DTypeCategory Category(DType t);
inline bool IsFloating(DType t) { return Category(t) == DTypeCategory::kFloating; }
inline bool IsIntegral(DType t) { return Category(t) != DTypeCategory::kFloating; }  // bool included
int ItemSize(DType t);  // bytes per element

// DLPack type code (kDLInt=0, kDLUInt=1, kDLFloat=2, kDLBfloat=4, kDLBool=6) and bits.
struct DLTypeCode { uint8_t code; uint8_t bits; };
DLTypeCode ToDLType(DType t);

// torch.result_type for two tensor operands.
DType PromoteTypes(DType a, DType b);

}  // namespace anvil
