#pragma once

namespace tcpreap {

// `tcpreap list [OPTIONS]`: argv[0] is "list". Returns the exit code.
int run_list_command(int argc, char** argv);

}  // namespace tcpreap
