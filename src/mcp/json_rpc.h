// JSON-RPC 2.0 as the MCP stdio transport frames it: one message per line
// (UTF-8 JSON, no embedded newline) on stdin and stdout, nothing else on
// stdout. This file reads and classifies lines and writes messages; it knows
// nothing about MCP methods (server.h dispatches them).
//
// Not thread-safe: one reader and one writer per connection, used from the
// server's single thread.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace anvil::mcp {

// The JSON-RPC error codes the server answers with.
enum RpcErrorCode {
  kParseError = -32700,      // the line is not JSON
  kInvalidRequest = -32600,  // JSON, but not a JSON-RPC 2.0 request or notification
  kMethodNotFound = -32601,  // no such method
  kInvalidParams = -32602,   // the method's params do not fit (unknown tool, arguments against the schema)
  kInternalError = -32603,   // our bug or an environment failure outside any tool
};

// An error answer: code, a message the caller can act on, optional data.
struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;  // null = none
};

// One incoming line, classified.
struct IncomingMessage {
  enum class Kind {
    kRequest,       // has an id and a method: answer it
    kNotification,  // a method and no id: never answered
    kResponse,      // a result or error for a request of ours: ignored (the server sends none)
    kInvalid,       // not answerable as a request: `error` says why, `id` is what could be read (or null)
  };
  Kind kind = Kind::kInvalid;
  nlohmann::json id;      // string or number for requests; null otherwise
  std::string method;
  nlohmann::json params;  // object or array; null when absent
  RpcError error;         // for kInvalid
};

// Parses one line (without its newline). Never throws.
IncomingMessage ParseMessage(const std::string& line);

// Builds the three kinds of outgoing message.
nlohmann::json ResultMessage(const nlohmann::json& id, nlohmann::json result);
nlohmann::json ErrorMessage(const nlohmann::json& id, const RpcError& error);
nlohmann::json NotificationMessage(const std::string& method, nlohmann::json params);

// Reads lines from a file descriptor. ReadLine returns nullopt at end of
// input (the client closed stdin); a final line without a newline is still
// returned. A trailing '\r' is dropped (clients on Windows).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  std::optional<std::string> ReadLine();

 private:
  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

// Writes messages as single lines to a file descriptor and flushes each one.
// Write fails (false) when the peer has gone; the server then stops.
class MessageWriter {
 public:
  explicit MessageWriter(int fd) : fd_(fd) {}
  bool Write(const nlohmann::json& message);

 private:
  int fd_;
};

}  // namespace anvil::mcp
