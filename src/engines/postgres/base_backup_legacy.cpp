#include "engines/postgres/base_backup_legacy.h"

#include <algorithm>
#include <optional>

namespace opendbs::engines::postgres {
namespace {

constexpr uint64_t kProgressEvery = 4 << 20;

// The next result must open a COPY OUT (between two COPYs the server sends no command completion).
core::Status expect_copy(PgConnection& repl, TaskControl& control, const std::string& what) {
  OPENDBS_ASSIGN(auto result, repl.next_result(&control));
  if (!result || PQresultStatus(result.get()) != PGRES_COPY_OUT)
    return source_error("BASE_BACKUP", "no COPY of " + what + ": " +
                                           (result ? PQresultErrorMessage(result.get()) : "the command ended"));
  return {};
}

}  // namespace

std::string legacy_base_backup_command(const std::string& label, int server_version) {
  std::string command = "BASE_BACKUP LABEL " + quote_literal(label) + " PROGRESS FAST WAL NOWAIT";
  if (server_version >= 130000) command += " MANIFEST 'yes'";  // backup manifests came with 13
  return command;
}

core::Status receive_legacy_archives(PgConnection& repl, int server_version, const PGresult& tablespaces,
                                     const std::function<TarSink&(const std::string& prefix)>& archive_for,
                                     repo::SetWriter& set, uint64_t total, TaskControl& control) {
  uint64_t received = 0, reported = 0;
  for (int row = 0; row < PQntuples(&tablespaces); ++row) {
    const bool main = PQgetisnull(&tablespaces, row, 0);
    const std::string prefix = main ? "" : "pg_tblspc/" + std::string(PQgetvalue(&tablespaces, row, 0)) + "/";
    OPENDBS_TRY(expect_copy(repl, control, main ? "the data directory" : "tablespace " + prefix));
    TarReader archive(archive_for(prefix));
    for (;;) {
      if (control.cancelled()) return cancelled_error();
      OPENDBS_ASSIGN(auto message, repl.get_copy_data(&control));
      if (!message) break;
      OPENDBS_TRY(archive.feed(*message));
      received += message->size();
      if (received >= reported + kProgressEvery) {
        reported = received;
        control.progress(total ? static_cast<int>(std::min<uint64_t>(99, 100 * received / total)) : 0, received);
      }
    }
    OPENDBS_TRY(archive.finish());  // before 15 the server sends no end-of-archive blocks
  }
  if (server_version < 130000) return {};
  OPENDBS_TRY(expect_copy(repl, control, "the backup manifest"));
  OPENDBS_ASSIGN(auto manifest, set.add_stream("backup_manifest", repo::FileMeta{0, 0600, 0}));
  for (;;) {
    if (control.cancelled()) return cancelled_error();
    OPENDBS_ASSIGN(auto message, repl.get_copy_data(&control));
    if (!message) break;
    OPENDBS_TRY(manifest->write(*message));
  }
  return manifest->close();
}

}  // namespace opendbs::engines::postgres
