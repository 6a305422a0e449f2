// Reading a provider's JSON reply field by field, so that a reply missing a
// field, or holding the wrong type, becomes an error naming that field
// ("'choices[0].message.content' is null") instead of an exception.
//
// Used by openai_client and anthropic_client; errors are kProtocol.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace anvil::llm {

// Parses `body`; an error quotes its start when it is not a JSON object.
Result<nlohmann::json> ParseReplyObject(const std::string& body);

// The field `key` of `object` (which `path` names in messages), if present
// and not null; `required` turns absence into an error. A present field of
// another type is always an error.
Result<std::string> StringField(const nlohmann::json& object, const char* key, const std::string& path, bool required);
// A non-negative integer token count; absent or null reads as 0.
Result<long long> CountField(const nlohmann::json& object, const char* key, const std::string& path);

// For a reply without the expected shape: " (the server said: ...)" when the
// body carries an error message, else "".
std::string ServerSaid(const nlohmann::json& reply);

}  // namespace anvil::llm
