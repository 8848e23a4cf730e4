// The programs' one option loop: options in order to the program, --help,
// bad options and unexpected operands said the one way, exit codes returned.
// What stdout and stderr receive is captured.

#include "program/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "program/exit_codes.h"
#include "program_args.h"

namespace tcpreap {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::internal::CaptureStderr;
using ::testing::internal::CaptureStdout;
using ::testing::internal::GetCapturedStderr;
using ::testing::internal::GetCapturedStdout;

constexpr const char* kUsage = "Usage: prog [-c FILE] [-n]\n";
enum : int { kLongOnly = 256 };
const option kLong[] = {{"config", required_argument, nullptr, 'c'},
                        {"dry-run", no_argument, nullptr, 'n'},
                        {"long-only", no_argument, nullptr, kLongOnly},
                        {"help", no_argument, nullptr, 'h'},
                        {nullptr, 0, nullptr, 0}};

// Runs the loop over `args`, recording each option the program is given.
struct LoopRun {
  LoopRun(ProgramArgs& args, CommandLine::Operands taken = CommandLine::Operands::kNone,
      std::optional<int> stop_at_n = std::nullopt) {
    const ProgramMessages say("prog");
    CommandLine command_line(say, kUsage, args.argc(), args.argv(), ":c:nh", kLong);
    CaptureStdout();
    CaptureStderr();
    result = command_line.read_options(
        [&](int code, const char* value) -> std::optional<int> {
          seen.emplace_back(code, value ? value : "");
          if (code == 'n') return stop_at_n;
          return std::nullopt;
        },
        taken);
    out = GetCapturedStdout();
    err = GetCapturedStderr();
    for (char* operand : command_line.operands()) operands_after.emplace_back(operand);
  }
  std::optional<int> result;
  std::vector<std::pair<int, std::string>> seen;
  std::vector<std::string> operands_after;
  std::string out, err;
};

TEST(CommandLine, GivesEachOptionInOrderAndSaysNothing) {
  ProgramArgs args({"prog", "-c", "a.yaml", "--long-only", "--config=b.yaml", "-n"});
  LoopRun run(args);
  EXPECT_EQ(run.result, std::nullopt);
  EXPECT_THAT(run.seen, ElementsAre(std::pair<int, std::string>{'c', "a.yaml"}, std::pair<int, std::string>{kLongOnly, ""},
                                    std::pair<int, std::string>{'c', "b.yaml"}, std::pair<int, std::string>{'n', ""}));
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "");
}

TEST(CommandLine, HelpPrintsTheUsageAndEndsWithZero) {
  for (const char* help : {"-h", "--help"}) {
    ProgramArgs args({"prog", "-n", help, "--bogus"});
    LoopRun run(args);
    EXPECT_EQ(run.result, exit_code::kOk) << help;
    EXPECT_EQ(run.out, kUsage) << help;
    EXPECT_EQ(run.err, "") << help << ": the bad option after it is never reached";
    EXPECT_THAT(run.seen, ElementsAre(std::pair<int, std::string>{'n', ""})) << help;
  }
}

TEST(CommandLine, ABadOptionIsAUsageErrorNamingIt) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"prog", "--bogus", "-h"}, "prog: unknown option '--bogus'\n"},
      {{"prog", "-Z"}, "prog: unknown option '-Z'\n"},
      {{"prog", "--conf", "x"}, "prog: unknown option '--conf' (did you mean '--config'?)\n"},
      {{"prog", "--config"}, "prog: option '--config' needs a value\n"},
      {{"prog", "-c"}, "prog: option '-c' needs a value\n"},
      {{"prog", "--dry-run=yes"}, "prog: option '--dry-run' takes no value\n"},
  };
  for (const auto& [words, said] : cases) {
    ProgramArgs args(words);
    LoopRun run(args);
    EXPECT_EQ(run.result, exit_code::kUsage) << words[1];
    EXPECT_EQ(run.err, said + "Try 'prog --help'.\n") << words[1];
    EXPECT_EQ(run.out, "") << words[1];
    EXPECT_THAT(run.seen, IsEmpty()) << words[1];
  }
}

TEST(CommandLine, AnOperandIsRefusedUnlessTaken) {
  {
    ProgramArgs args({"prog", "-n", "extra", "more"});
    LoopRun run(args);
    EXPECT_EQ(run.result, exit_code::kUsage);
    EXPECT_EQ(run.err, "prog: unexpected argument 'extra'\nTry 'prog --help'.\n");
  }
  {
    ProgramArgs args({"prog", "10.0.0.1:1", "-n", "10.0.0.2:2"});
    LoopRun run(args, CommandLine::Operands::kTaken);
    EXPECT_EQ(run.result, std::nullopt);
    EXPECT_EQ(run.err, "");
    EXPECT_THAT(run.operands_after, ElementsAre("10.0.0.1:1", "10.0.0.2:2")) << "options and operands may mix";
  }
  {
    ProgramArgs args({"prog", "-n"});
    LoopRun run(args, CommandLine::Operands::kTaken);
    EXPECT_THAT(run.operands_after, IsEmpty());
  }
}

TEST(CommandLine, TheProgramsExitCodeEndsTheLoop) {
  ProgramArgs args({"prog", "-n", "-c", "never.yaml", "--bogus"});
  LoopRun run(args, CommandLine::Operands::kNone, 78);
  EXPECT_EQ(run.result, 78);
  EXPECT_THAT(run.seen, ElementsAre(std::pair<int, std::string>{'n', ""}));
  EXPECT_EQ(run.err, "");
}

}  // namespace
}  // namespace tcpreap
