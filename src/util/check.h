// ANVIL_CHECK: internal invariants. A failed check is Anvil's bug, never the
// user's; it prints file:line and the condition and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>

#define ANVIL_CHECK(cond)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "anvil internal error at %s:%d: check failed: %s\n", \
                   __FILE__, __LINE__, #cond);                                   \
      std::abort();                                                              \
    }                                                                            \
  } while (0)
