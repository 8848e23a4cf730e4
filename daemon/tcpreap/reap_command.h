#pragma once

namespace tcpreap {

// `tcpreap reap [OPTIONS]`: argv[0] is "reap". One scan, decide, act on the
// dead. Returns the exit code: 0 every action succeeded (or none was due),
// 1 an action or the scan failed, 2 bad arguments, 78 invalid config.
int run_reap_command(int argc, char** argv);

}  // namespace tcpreap
