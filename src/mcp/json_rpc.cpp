#include "mcp/json_rpc.h"

#include <unistd.h>

#include <cerrno>

namespace anvil::mcp {

IncomingMessage ParseMessage(const std::string& line) {
  IncomingMessage m;
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    m.error = {kParseError, "parse error: the line is not valid JSON (send one JSON-RPC message per line)", nullptr};
    return m;
  }
  if (j.is_array()) {
    m.error = {kInvalidRequest, "invalid request: batches (JSON arrays) are not supported; send one message per line",
               nullptr};
    return m;
  }
  if (!j.is_object()) {
    m.error = {kInvalidRequest, "invalid request: a message must be a JSON object", nullptr};
    return m;
  }
  // The id is read first so that an invalid request is still answered under it.
  bool has_id = j.contains("id");
  if (has_id) {
    const nlohmann::json& id = j["id"];
    if (id.is_string() || id.is_number_integer() || id.is_number_unsigned()) m.id = id;
  }
  if (j.value("jsonrpc", nlohmann::json()) != "2.0") {
    m.error = {kInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"", nullptr};
    return m;
  }
  if (!j.contains("method")) {
    if (j.contains("result") || j.contains("error")) {
      m.kind = IncomingMessage::Kind::kResponse;
      return m;
    }
    m.error = {kInvalidRequest, "invalid request: no \"method\"", nullptr};
    return m;
  }
  if (!j["method"].is_string()) {
    m.error = {kInvalidRequest, "invalid request: \"method\" must be a string", nullptr};
    return m;
  }
  if (has_id && m.id.is_null()) {
    m.error = {kInvalidRequest, "invalid request: \"id\" must be a string or an integer", nullptr};
    return m;
  }
  if (j.contains("params") && !j["params"].is_object() && !j["params"].is_array()) {
    m.error = {kInvalidRequest, "invalid request: \"params\" must be an object", nullptr};
    return m;
  }
  m.method = j["method"].get<std::string>();
  if (j.contains("params")) m.params = j["params"];
  m.kind = has_id ? IncomingMessage::Kind::kRequest : IncomingMessage::Kind::kNotification;
  return m;
}

nlohmann::json ResultMessage(const nlohmann::json& id, nlohmann::json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

nlohmann::json ErrorMessage(const nlohmann::json& id, const RpcError& error) {
  nlohmann::json e = {{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) e["data"] = error.data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", e}};
}

nlohmann::json NotificationMessage(const std::string& method, nlohmann::json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

std::optional<std::string> LineReader::ReadLine() {
  while (true) {
    size_t newline = buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (eof_) {
      if (buffer_.empty()) return std::nullopt;
      std::string line = std::move(buffer_);
      buffer_.clear();
      return line;
    }
    char chunk[65536];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;  // end of input, or an unreadable stdin: either way the client is gone
      continue;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

bool MessageWriter::Write(const nlohmann::json& message) {
  // dump() escapes control characters inside strings, so the line holds no
  // raw newline; invalid UTF-8 (from a compiler log, say) is replaced, not thrown.
  std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace anvil::mcp
