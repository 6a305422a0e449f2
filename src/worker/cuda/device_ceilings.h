// Measures the current CUDA device's ceilings (verify/roofline.h): the
// device-to-device copy bandwidth and the dense matmul peak per dtype, the
// two numbers a kernel's speed-of-light floor is computed from.
//
// Measured rather than read from a data sheet because the data sheet's peak
// is not reachable: a copy and a large cuBLAS matmul are what well-written
// kernels actually reach on this device, clocks, driver and library included.
//
//   copy:   a 1 GiB tensor copied into another (cudaMemcpyAsync device to
//           device via Tensor::copy_), 3 warm-ups, then the median of 20
//           copies timed with CUDA events; bytes = 2 x 1 GiB (read + write).
//   matmul: at::mm_out of n x n random normal matrices, n = 8192 (f64: 4096),
//           f16, bf16, f32 with TF32 off (true f32), f64; 3 warm-ups, the
//           median of 10 timed with CUDA events; TFLOP/s = 2 n^3 / time.
// All trials of one measurement are queued back to back on the current
// stream (one event pair each), so the device never idles between them.
// About 1 s on an H100 (most of it allocation and cuBLAS start-up); peak
// memory ~2 GiB.
//
// device_key is left empty: the caller sets it from DescribeDevice
// (worker/device.h), the one place that names a device's identity.
//
// Threading: uses the calling thread's current device and stream; the
// device should be otherwise idle (other work lowers the numbers). The
// global TF32 switch is turned off during the matmuls and restored.
// Failure: kUnsupported without a CUDA device; kIo when an allocation or a
// CUDA call fails (the message names the step and the CUDA/PyTorch error).
#pragma once

#include "util/status.h"
#include "verify/roofline.h"

namespace anvil::worker {

Result<DeviceCeilings> MeasureDeviceCeilings();

}  // namespace anvil::worker
