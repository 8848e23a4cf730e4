#include "program/guarded_main.h"

#include <cstdio>
#include <exception>

#include "program/exit_codes.h"

namespace tcpreap {

int guarded_main(const char* name, int (*run)(int argc, char** argv), int argc, char** argv) noexcept {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s; exiting with status %d\n", name, e.what(), exit_code::kFailure);
  } catch (...) {
    std::fprintf(stderr, "%s: internal error: an exception that is not a std::exception; exiting with status %d\n",
                 name, exit_code::kFailure);
  }
  return exit_code::kFailure;
}

}  // namespace tcpreap
