// Database passwords for the friendly commands, from a flag, a file or the environment, so that scripts
// need not put them on a command line (where `ps` shows them).
#pragma once

#include <string>

#include "core/result.h"

namespace opendbs::cli {

// The first of: `value`, the first line of `file`, the environment variable `env_name`.
// MissingParameter naming `flag` when none is given; IOError when the file cannot be read.
core::Result<std::string> read_secret(const std::string& value, const std::string& file, const char* env_name,
                                      const std::string& flag);

}  // namespace opendbs::cli
