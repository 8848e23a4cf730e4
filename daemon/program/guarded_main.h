#pragma once
// The main() of every program: nothing escapes it.

namespace tcpreap {

// Returns `run(argc, argv)`. An exception escaping it (std::bad_alloc,
// most likely) is said on stderr - "NAME: internal error: WHAT; exiting
// with status 1" - and the result is exit_code::kFailure: for a service,
// systemd then restarts it. Writes with no allocation of its own.
int guarded_main(const char* name, int (*run)(int argc, char** argv), int argc, char** argv) noexcept;

}  // namespace tcpreap
