#pragma once

namespace tcpreap {

// `tcpreap check [--config FILE]`: argv[0] is "check". Returns the exit code:
// 0 valid, 78 (EX_CONFIG) invalid, 2 bad arguments.
int run_check_command(int argc, char** argv);

}  // namespace tcpreap
