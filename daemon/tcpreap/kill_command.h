#pragma once

namespace tcpreap {

// `tcpreap kill LOCAL_ADDR:PORT REMOTE_ADDR:PORT [--method M]`: argv[0] is
// "kill". Returns 0 when the connection is gone, 1 when there was no such
// connection or the action failed, 2 bad arguments.
int run_kill_command(int argc, char** argv);

}  // namespace tcpreap
