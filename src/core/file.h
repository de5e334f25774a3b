// The one durable-write path: every file opendbs must not lose goes through write_file_durable.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::core {

// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs the
// directory, so that after a crash `path` holds either the old content or all of the new. `mode` is
// applied before any byte is written (secrets never exist with a wider mode).
Status write_file_durable(const std::string& path, std::string_view data, int mode = 0644);
Result<std::string> read_file(const std::string& path);
// Creates the directory and its parents (like mkdir -p) with `mode`.
Status make_dirs(const std::string& path, int mode = 0755);
// fsyncs a directory so that a rename or create inside it is durable.
Status sync_dir(const std::string& path);

}  // namespace opendbs::core
