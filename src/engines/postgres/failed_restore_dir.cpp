#include "engines/postgres/failed_restore_dir.h"

#include "core/file.h"
#include "engines/postgres/cluster_identity.h"
#include "core/log.h"

namespace opendbs::engines::postgres {
namespace fs = std::filesystem;

core::Error disable_failed_restore_dir(const fs::path& dir, core::Error error) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return error;  // nothing was written
  std::string why = "opendbs: the restore into this directory did not finish (" + error.code + ": " + error.message +
                    "). PostgreSQL must not start on it: restore into it again or remove it.\n";
  // global/pg_control goes below: the cluster's identity stays here, for the delta restore that
  // mends the directory (cluster_identity.h).
  if (auto id = data_directory_system_identifier(dir); id.ok())
    why += std::string(kRestoreFailedIdentifierKey) + std::to_string(*id) + "\n";
  bool disabled = core::write_file_durable((dir / kRestoreFailedFile).string(), why, 0600).ok();
  // Appended to what is there, not rewritten: the file may be half restored, and a later restore
  // replaces it anyway.
  const fs::path conf_file = dir / "postgresql.auto.conf";
  auto conf = fs::exists(conf_file, ec) ? core::read_file(conf_file.string()) : core::Result<std::string>(std::string());
  disabled = disabled && conf.ok() &&
             core::write_file_durable(conf_file.string(),
                                      *conf + "\n# opendbs: the restore into this directory did not finish, see " +
                                          kRestoreFailedFile + "\n" + kRestoreFailedSetting + " = 'see " +
                                          kRestoreFailedFile + " in the data directory'\n",
                                      0600)
                 .ok();
  if (fs::is_directory(dir / "global", ec)) {  // else the restore had not written it yet
    fs::remove(dir / "global" / "pg_control", ec);
    disabled = disabled && !ec && core::sync_dir((dir / "global").string()).ok();
  }
  core::log_event(core::LogLevel::warn, "postgres_restore_dir_disabled",
                  {{"dir", dir.string()}, {"error", error.message}, {"disabled", disabled}});
  error.message += disabled ? "; RestoreDir " + dir.string() + " was disabled: PostgreSQL refuses to start on it (" +
                                  kRestoreFailedFile + " says why); restore into it again or remove it"
                            : "; RestoreDir " + dir.string() + " holds an unfinished restore that could not be " +
                                  "disabled: do not start PostgreSQL on it, restore into it again or remove it";
  return error;
}

}  // namespace opendbs::engines::postgres
