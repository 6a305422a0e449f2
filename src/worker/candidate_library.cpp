#include "worker/candidate_library.h"

#include <dlfcn.h>
#include <omp.h>

#include <fmt/format.h>

#include "worker/input_gen.h"

namespace anvil::worker {

Result<std::unique_ptr<CandidateLibrary>> CandidateLibrary::Load(const std::string& path) {
  dlerror();
  // RTLD_LOCAL: the candidate's symbols do not leak into the worker's namespace.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return Status::Error(ErrorCode::kIo, fmt::format("dlopen failed: {}", dlerror()));
  auto fn = reinterpret_cast<AnvilKernelFn>(dlsym(handle, ANVIL_KERNEL_SYMBOL));
  if (!fn) {
    std::string err = fmt::format("the library exports no '{}' function (declare it extern \"C\" ANVIL_EXPORT "
                                  "int anvil_kernel(const AnvilCall*))",
                                  ANVIL_KERNEL_SYMBOL);
    dlclose(handle);
    return Status::Error(ErrorCode::kNotFound, err);
  }
  return std::unique_ptr<CandidateLibrary>(new CandidateLibrary(handle, fn));
}

CandidateLibrary::~CandidateLibrary() {
  if (handle_) dlclose(handle_);
}

DLTensor ToDLTensor(const at::Tensor& t) {
  DLTensor d{};
  d.data = t.data_ptr();
  d.device = t.is_cuda() ? DLDevice{kDLCUDA, static_cast<int32_t>(t.get_device())} : DLDevice{kDLCPU, 0};
  d.ndim = static_cast<int32_t>(t.dim());
  DLTypeCode code = ToDLType(*FromAten(t.scalar_type()));
  d.dtype = {code.code, code.bits, 1};
  d.shape = const_cast<int64_t*>(t.sizes().data());
  d.strides = const_cast<int64_t*>(t.strides().data());
  d.byte_offset = 0;
  return d;
}

CallResult CandidateLibrary::Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                                  const NamedAttrs& attrs, int num_threads, void* stream) const {
  std::vector<ViewSlot> none;
  return CallWithViews(inputs, outputs, none, attrs, num_threads, stream);
}

CallResult CandidateLibrary::CallWithViews(const std::vector<at::Tensor>& inputs,
                                           const std::vector<at::Tensor>& outputs, std::vector<ViewSlot>& views,
                                           const NamedAttrs& attrs, int num_threads, void* stream) const {
  std::vector<DLTensor> in, out;
  for (const auto& t : inputs) in.push_back(ToDLTensor(t));
  for (const auto& t : outputs) out.push_back(t.defined() ? ToDLTensor(t) : DLTensor{});
  // A view output: no buffer; the candidate sets data (and byte_offset) and
  // fills the strides array, which keeps the poison where it was not written.
  for (ViewSlot& v : views) {
    DLTensor d = ToDLTensor(v.viewed);
    d.data = nullptr;
    d.byte_offset = 0;
    d.ndim = static_cast<int32_t>(v.shape.size());
    d.shape = v.shape.data();
    v.strides.assign(v.shape.size(), ViewSlot::kUnsetStride);
    d.strides = v.strides.data();
    out[v.output] = d;
  }
  std::vector<AnvilAttr> attr_values;
  for (const auto& [name, v] : attrs) {
    AnvilAttr a{};
    a.name = name.c_str();
    DLTypeCode code = ToDLType(v.dtype);
    a.dtype = {code.code, code.bits, 1};
    if (IsFloating(v.dtype))
      a.value.f = v.f;
    else
      a.value.i = v.i;
    attr_values.push_back(a);
  }
  char error[1024] = {0};
  AnvilCall call{};
  call.abi_version = ANVIL_ABI_VERSION;
  call.num_inputs = static_cast<int32_t>(in.size());
  call.inputs = in.data();
  call.num_outputs = static_cast<int32_t>(out.size());
  call.outputs = out.data();
  call.num_attrs = static_cast<int32_t>(attr_values.size());
  call.attrs = attr_values.data();
  call.stream = stream;
  call.num_threads = num_threads;
  call.error = error;
  call.error_capacity = sizeof error;
  omp_set_num_threads(num_threads);
  CallResult r;
  r.status = fn_(&call);
  for (ViewSlot& v : views) {
    v.data = out[v.output].data;
    v.byte_offset = out[v.output].byte_offset;
  }
  error[sizeof error - 1] = '\0';
  r.message = error;
  return r;
}

}  // namespace anvil::worker
