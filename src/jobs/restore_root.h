// The node's restore root (`opendbs serve --restore-root DIR`): when set, restores write only below
// it. RestoreDir is a path on the node that anyone allowed dbs:CreateRestoreTask names, and the node
// often runs as root; without a root a restore may create or (delta restore) rewrite a PostgreSQL
// data directory anywhere (the engine still refuses a directory of another cluster).
#pragma once

#include <string>

#include "core/result.h"

namespace opendbs::jobs {

// RestoreDir must be absolute and not "/" (InvalidParameter). Then ok when `root` is "" (no root) or
// `dir` resolves to a path strictly inside `root`'s resolution:
// both made absolute (from the node's working directory), ".." resolved and the symlinks of the part
// that exists followed, so that neither "../" nor a symlink leads out. Else InvalidParameter naming
// RestoreDir, what it resolves to and the root.
core::Status check_restore_root(const std::string& root, const std::string& dir);

}  // namespace opendbs::jobs
