#include "engines/postgres/pg_dump_version.h"

#include <cctype>

#include "core/errors.h"
#include "engines/postgres/logical_backup.h"

namespace opendbs::engines::postgres {

int pg_dump_major_of(const std::string& version_output) {
  const auto at = version_output.find(") ");
  if (at == std::string::npos) return 0;
  int major = 0;
  for (size_t i = at + 2; i < version_output.size() && std::isdigit(static_cast<unsigned char>(version_output[i])); ++i)
    major = major * 10 + (version_output[i] - '0');
  return major;
}

core::Result<int> installed_pg_dump_major() {
  auto out = run_program({"pg_dump", "--version"}, {});
  if (!out.ok())
    return core::make_error("EngineUnavailable", "logical backups run pg_dump, which cannot be run on the opendbs node (" +
                                                     out.error().message +
                                                     "): install the PostgreSQL client (Debian: postgresql-client)");
  const int major = pg_dump_major_of(*out);
  if (major == 0) return core::make_error("EngineUnavailable", "cannot read pg_dump's version from \"" + *out + "\"");
  return major;
}

core::Status check_pg_dump_for(int server_version) {
  const int server_major = server_version / 10000;
  OPENDBS_ASSIGN(const int dump_major, installed_pg_dump_major());
  if (dump_major >= server_major) return {};
  const std::string needed = std::to_string(server_major);
  return core::make_error("EngineUnavailable",
                          "logical backups of PostgreSQL " + needed + " need pg_dump " + needed +
                              " or later on the opendbs node, which has pg_dump " + std::to_string(dump_major) +
                              ": install postgresql-client-" + needed +
                              " (on Debian from the PostgreSQL project's apt repository), or use BackupMethod=physical");
}

}  // namespace opendbs::engines::postgres
