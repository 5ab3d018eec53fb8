// dynjobs/export.hpp - which declarations a shared libdynjobs exports.
//
// The libraries compile with hidden visibility (-fvisibility=hidden, inline functions hidden
// too), so a shared libdynjobs.so or libdynjobs_sim.so exports exactly the names the public
// headers mark with DYNJOBS_DECL: the engine's internals, Asio's and Beast's instantiations and
// the simulator's engines stay private to the library that uses them. A static build is the
// same objects in an archive; the mark changes nothing there.
#pragma once

/// Marks a function or class of the public API as exported from the shared library.
#if defined(__GNUC__) || defined(__clang__)
#define DYNJOBS_DECL __attribute__((visibility("default")))
#else
#define DYNJOBS_DECL
#endif
