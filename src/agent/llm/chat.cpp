// Role names shared by both wire formats (see chat.h).
#include "agent/llm/chat.h"

namespace anvil::llm {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kUser:
      return "user";
    case Role::kAssistant:
      return "assistant";
  }
  return "user";
}

}  // namespace anvil::llm
