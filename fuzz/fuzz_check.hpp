// fuzz_check.hpp - the invariant check every fuzz target uses.
//
// A broken invariant must stop libFuzzer with the input saved as a crash artifact, in every build
// type: assert() would vanish under NDEBUG, so this aborts on its own.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)
