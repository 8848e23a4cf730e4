#pragma once
// Runs a program (no shell), capturing its output, and reaps it by PID.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace tcpreap::test {

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed
  std::string out;
  std::string err;
  // "ip -n x link ...: exit 2: <stderr>" for failure messages.
  std::string describe(const std::vector<std::string>& argv) const;
};

// Runs argv[0] (looked up in PATH, then /usr/sbin:/sbin:/usr/bin:/bin) with
// `input` on its stdin. A program still running after `timeout` is killed
// (SIGKILL, by its PID) and reported as killed. Throws only when it cannot
// be started at all.
CommandResult run_command(const std::vector<std::string>& argv, std::string_view input = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs argv and throws SupportError with its stderr unless it exits 0.
CommandResult run_checked(const std::vector<std::string>& argv, std::string_view input = {});

// The absolute path of `program`, or "" if it is not installed.
std::string find_program(const std::string& program);

// "a b 'c d'": argv as a reader would type it.
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace tcpreap::test
