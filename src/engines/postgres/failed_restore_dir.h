// A physical restore that fails or is cancelled after it began writing RestoreDir leaves files that
// PostgreSQL would start on at the wrong moment: the set's files with its backup_label but no
// recovery settings recover to the backup's end and promote, silently; a delta restore cut short is
// a mixture of two states. Such a directory is disabled so that PostgreSQL refuses to start on it
// and says why (docs/POSTGRES.md, "Restore and point-in-time recovery"); restoring into it again
// (a delta restore) makes it whole.
#pragma once

#include <filesystem>

#include "core/result.h"

namespace opendbs::engines::postgres {

inline constexpr const char* kRestoreFailedFile = "OPENDBS_RESTORE_FAILED";  // in the data directory: why
inline constexpr const char* kRestoreFailedSetting = "opendbs_restore_failed";
// The line of kRestoreFailedFile that keeps the system identifier of the removed global/pg_control.
inline constexpr const char* kRestoreFailedIdentifierKey = "system_identifier = ";

// Disables `dir` after `error` ended its restore: writes kRestoreFailedFile, appends to
// postgresql.auto.conf a setting PostgreSQL does not know (kRestoreFailedSetting), so that it stops
// at start with an error naming it, and removes global/pg_control, so that it cannot start even with
// that line removed. Returns `error` with a sentence saying so added to its message.
core::Error disable_failed_restore_dir(const std::filesystem::path& dir, core::Error error);

}  // namespace opendbs::engines::postgres
