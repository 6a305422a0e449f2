// Status and Result<T>: expected failures are values, not exceptions.
//
// A Status is either ok or carries an error code and a message written for the
// person who has to act on it ("task.toml:12:5: unknown dtype 'f33'; expected
// one of ..."). Internal invariant violations are not Statuses: they are
// ANVIL_CHECK failures (see check.h) and abort with a bug report line.
//
// Thread-safety: values; copy or move freely between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace anvil {

enum class ErrorCode {
  kOk = 0,
  kInvalidInput,   // the user's input (task file, formula, flags) is wrong
  kNotFound,       // a file, task or record does not exist
  kUnsupported,    // valid input that this build cannot handle (yet)
  kIo,             // the OS refused: open, read, write, spawn
  kBuildFailed,    // a candidate did not compile or link
  kProtocol,       // a peer (worker, database, LLM server) answered something unexpected
  kUnavailable,    // a remote service failed, timed out or throttled us; later may work
  kCancelled,      // the caller asked to stop (a CancelToken), nothing failed
  kInternal,       // our bug; message says where
};

class Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes the message with context ("loading task x: ...").
  Status Context(const std::string& what) const {
    if (ok()) return *this;
    return Error(code_, what + ": " + message_);
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidInput(std::string m) { return Status::Error(ErrorCode::kInvalidInput, std::move(m)); }
inline Status NotFound(std::string m) { return Status::Error(ErrorCode::kNotFound, std::move(m)); }
inline Status Unsupported(std::string m) { return Status::Error(ErrorCode::kUnsupported, std::move(m)); }
inline Status IoError(std::string m) { return Status::Error(ErrorCode::kIo, std::move(m)); }
inline Status ProtocolError(std::string m) { return Status::Error(ErrorCode::kProtocol, std::move(m)); }
inline Status Unavailable(std::string m) { return Status::Error(ErrorCode::kUnavailable, std::move(m)); }
inline Status Cancelled(std::string m) { return Status::Error(ErrorCode::kCancelled, std::move(m)); }
inline Status InternalError(std::string m) { return Status::Error(ErrorCode::kInternal, std::move(m)); }

// Result<T> holds a T or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {         // NOLINT(implicit)
    assert(!std::get<Status>(v_).ok() && "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace anvil

// Propagates a non-ok Status from an expression returning Status.
#define ANVIL_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::anvil::Status _anvil_s = (expr);           \
    if (!_anvil_s.ok()) return _anvil_s;         \
  } while (0)

#define ANVIL_CONCAT_INNER(a, b) a##b
#define ANVIL_CONCAT(a, b) ANVIL_CONCAT_INNER(a, b)
// Declares `lhs` from a Result<T> expression or returns its Status.
#define ANVIL_ASSIGN_OR_RETURN(lhs, expr)                                  \
  auto ANVIL_CONCAT(_anvil_r, __LINE__) = (expr);                          \
  if (!ANVIL_CONCAT(_anvil_r, __LINE__).ok())                              \
    return ANVIL_CONCAT(_anvil_r, __LINE__).status();                      \
  lhs = std::move(ANVIL_CONCAT(_anvil_r, __LINE__)).value()
