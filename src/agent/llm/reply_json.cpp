// Field-by-field reading of provider replies (see reply_json.h).
#include "agent/llm/reply_json.h"

#include <fmt/format.h>

#include "agent/llm/retry.h"

namespace anvil::llm {
namespace {

std::string Quote(const std::string& body) {
  constexpr size_t kMax = 200;
  if (body.empty()) return "an empty body";
  return fmt::format("'{}{}'", body.substr(0, kMax), body.size() > kMax ? "..." : "");
}

}  // namespace

Result<nlohmann::json> ParseReplyObject(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ProtocolError(fmt::format("the body is not valid JSON: {}", Quote(body)));
  if (!j.is_object()) return ProtocolError(fmt::format("the body is JSON but not an object: {}", Quote(body)));
  return j;
}

Result<std::string> StringField(const nlohmann::json& object, const char* key, const std::string& path,
                                bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return ProtocolError(fmt::format("'{}' is {}", path, it == object.end() ? "missing" : "null"));
    return std::string();
  }
  if (!it->is_string()) return ProtocolError(fmt::format("'{}' is a {}, not a string", path, it->type_name()));
  return it->get<std::string>();
}

Result<long long> CountField(const nlohmann::json& object, const char* key, const std::string& path) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return 0LL;
  if (!it->is_number_integer() || it->get<long long>() < 0)
    return ProtocolError(fmt::format("'{}' is not a token count: {}", path, it->dump()));
  return it->get<long long>();
}

std::string ServerSaid(const nlohmann::json& reply) {
  if (!reply.contains("error") && !reply.contains("message")) return "";
  return fmt::format(" (the server said: {})", ServerErrorMessage(reply.dump()));
}

}  // namespace anvil::llm
