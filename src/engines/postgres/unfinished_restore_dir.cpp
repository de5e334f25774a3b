#include "engines/postgres/unfinished_restore_dir.h"

#include "core/clock.h"
#include "core/errors.h"
#include "core/file.h"
#include "core/log.h"
#include "engines/postgres/cluster_identity.h"

namespace opendbs::engines::postgres {
namespace fs = std::filesystem;
namespace {

constexpr const char* kIntoCluster = "into = a copy of the set's cluster (a delta restore)\n";

// The value of the line "\n<key>..." of `text`, if any.
std::optional<std::string> line_value(const std::string& text, const std::string& key) {
  const size_t at = text.find("\n" + key);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + 1 + key.size();
  return text.substr(begin, text.find('\n', begin) - begin);
}

}  // namespace

core::Status mark_restore_unfinished(const fs::path& dir, const std::string& set_id, const std::string& target,
                                     bool into_cluster, std::optional<uint64_t> system_identifier) {
  OPENDBS_TRY(core::make_dirs(dir.string(), 0700));
  std::string text =
      "opendbs: a restore into this directory has not finished: it is running, or it was cut short (it failed, "
      "was cancelled, or the node stopped during it). PostgreSQL must not start on it: restore into it again "
      "(opendbs completes an unfinished restore) or remove it.\n";
  text += "set = " + set_id + "\ntarget = " + target + "\nbegan = " +
          core::format_iso8601(core::SystemClock::instance().now_ms()) + "\n";
  text += into_cluster ? kIntoCluster : "into = an empty directory\n";
  if (system_identifier) text += std::string(kRestoreFailedIdentifierKey) + std::to_string(*system_identifier) + "\n";
  return core::write_file_durable((dir / kRestoreUnfinishedFile).string(), text, 0600);
}

std::optional<UnfinishedRestore> unfinished_restore(const fs::path& dir) {
  auto text = core::read_file((dir / kRestoreUnfinishedFile).string());
  if (!text.ok()) return std::nullopt;
  UnfinishedRestore out;
  out.into_cluster = text->find(std::string("\n") + kIntoCluster) != std::string::npos;
  if (auto digits = line_value(*text, kRestoreFailedIdentifierKey);
      digits && !digits->empty() && digits->size() <= 20 && digits->find_first_not_of("0123456789") == std::string::npos)
    out.system_identifier = std::stoull(*digits);
  return out;
}

core::Status clear_restore_unfinished(const fs::path& dir) {
  std::error_code ec;
  fs::remove(dir / kRestoreUnfinishedFile, ec);
  if (ec) return core::errors::io("cannot remove " + (dir / kRestoreUnfinishedFile).string() + ": " + ec.message());
  return core::sync_dir(dir.string());
}

core::Error disable_failed_restore_dir(const fs::path& dir, core::Error error) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return error;  // nothing was written
  const fs::path mark = dir / kRestoreUnfinishedFile;
  auto text = core::read_file(mark.string());
  std::string why = text.ok() ? *text : "opendbs: the restore into this directory did not finish.\n";
  // global/pg_control goes below: the cluster's identity stays here, for the delta restore that
  // mends the directory (cluster_identity.h).
  if (!text.ok())
    if (auto id = data_directory_system_identifier(dir); id.ok())
      why += std::string(kIntoCluster) + kRestoreFailedIdentifierKey + std::to_string(*id) + "\n";
  why += "error = " + error.code + ": " + error.message + "\n";
  bool disabled = core::write_file_durable(mark.string(), why, 0600).ok();
  // Appended to what is there, not rewritten: the file may be half restored, and a later restore
  // replaces it anyway.
  const fs::path conf_file = dir / "postgresql.auto.conf";
  auto conf = fs::exists(conf_file, ec) ? core::read_file(conf_file.string()) : core::Result<std::string>(std::string());
  disabled = disabled && conf.ok() &&
             core::write_file_durable(conf_file.string(),
                                      *conf + "\n# opendbs: the restore into this directory did not finish, see " +
                                          kRestoreUnfinishedFile + "\n" + kRestoreFailedSetting + " = 'see " +
                                          kRestoreUnfinishedFile + " in the data directory'\n",
                                      0600)
                 .ok();
  if (fs::is_directory(dir / "global", ec)) {  // else the restore had not written it yet
    fs::remove(dir / "global" / "pg_control", ec);
    disabled = disabled && !ec && core::sync_dir((dir / "global").string()).ok();
  }
  core::log_event(core::LogLevel::warn, "postgres_restore_dir_disabled",
                  {{"dir", dir.string()}, {"error", error.message}, {"disabled", disabled}});
  error.message += disabled ? "; RestoreDir " + dir.string() + " was disabled: PostgreSQL refuses to start on it (" +
                                  kRestoreUnfinishedFile + " says why); restore into it again or remove it"
                            : "; RestoreDir " + dir.string() + " holds an unfinished restore that could not be " +
                                  "disabled: do not start PostgreSQL on it, restore into it again or remove it";
  return error;
}

}  // namespace opendbs::engines::postgres
