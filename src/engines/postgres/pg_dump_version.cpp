#include "engines/postgres/pg_dump_version.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "core/errors.h"
#include "engines/postgres/logical_backup.h"

namespace opendbs::engines::postgres {
namespace {

bool is_executable(const std::filesystem::path& path) { return ::access(path.c_str(), X_OK) == 0; }

// The majors installed as <root>/<major>/bin/pg_dump.
std::vector<int> installed_majors(const std::string& root) {
  std::vector<int> majors;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.size() > 3 || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    if (is_executable(entry.path() / "bin" / "pg_dump")) majors.push_back(std::stoi(name));
  }
  std::sort(majors.begin(), majors.end());
  return majors;
}

core::Error too_old(int server_major, int dump_major) {
  const std::string needed = std::to_string(server_major);
  return core::make_error("EngineUnavailable",
                          "logical backups of PostgreSQL " + needed + " need pg_dump " + needed +
                              " or later on the opendbs node, which has pg_dump " + std::to_string(dump_major) +
                              ": install postgresql-client-" + needed +
                              " (on Debian from the PostgreSQL project's apt repository), or use BackupMethod=physical");
}

// The first pg_dump on PATH, when it can dump a server of `server_major`.
core::Result<std::string> pg_dump_on_path(int server_major) {
  auto out = run_program({"pg_dump", "--version"}, {});
  if (!out.ok())
    return core::make_error("EngineUnavailable", "logical backups run pg_dump, which cannot be run on the opendbs node (" +
                                                     out.error().message +
                                                     "): install the PostgreSQL client (Debian: postgresql-client)");
  const int major = pg_dump_major_of(*out);
  if (major == 0) return core::make_error("EngineUnavailable", "cannot read pg_dump's version from \"" + *out + "\"");
  if (major < server_major) return too_old(server_major, major);
  return std::string("pg_dump");
}

}  // namespace

int pg_dump_major_of(const std::string& version_output) {
  const auto at = version_output.find(") ");
  if (at == std::string::npos) return 0;
  int major = 0;
  for (size_t i = at + 2; i < version_output.size() && std::isdigit(static_cast<unsigned char>(version_output[i])); ++i)
    major = major * 10 + (version_output[i] - '0');
  return major;
}

core::Result<std::string> pg_dump_for(int server_version, const std::string& versions_root) {
  const int server_major = server_version / 10000;
  for (int major : installed_majors(versions_root))
    if (major >= server_major)
      return (std::filesystem::path(versions_root) / std::to_string(major) / "bin" / "pg_dump").string();
  return pg_dump_on_path(server_major);  // may be newer than those side by side (a build of one's own)
}

core::Status check_pg_dump_for(int server_version) {
  auto program = pg_dump_for(server_version);
  if (!program.ok()) return program.error();
  return {};
}

}  // namespace opendbs::engines::postgres
