#pragma once
// The config a command runs with, read and validated from its file
// (config/config_loader.h), or the operator told why there is none.

#include <optional>
#include <string>

#include "config/config.h"
#include "program/program_messages.h"

namespace tcpreap {

// The valid config in `path`. When it is not valid, every diagnostic goes
// to stderr as file:line:column: message, then "NAME: PATH is not valid
// (N errors); nothing was done", and nullopt is returned: the command then
// exits exit_code::kConfig (78, EX_CONFIG).
std::optional<Config> command_config(const std::string& path, const ProgramMessages& messages);

}  // namespace tcpreap
