#include "jobs/restore_root.h"

#include <filesystem>

#include "core/errors.h"

namespace opendbs::jobs {
namespace fs = std::filesystem;

core::Status check_restore_root(const std::string& root, const std::string& dir) {
  // A relative path would depend on the node's working directory, and "/" is no data directory.
  if (dir.empty() || dir.front() != '/' || fs::path(dir).lexically_normal() == "/")
    return core::make_error("InvalidParameter", "RestoreDir " + dir +
                                                    " must be an absolute path to a directory (not /) on the node");
  if (root.empty()) return {};
  std::error_code ec;
  const fs::path resolved_root = fs::weakly_canonical(fs::absolute(root, ec), ec);
  if (ec) return core::errors::io("cannot resolve the restore root " + root + ": " + ec.message());
  const fs::path resolved = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) return core::make_error("InvalidParameter", "RestoreDir " + dir + " cannot be resolved: " + ec.message());
  const fs::path inside = resolved.lexically_relative(resolved_root);
  if (!dir.empty() && !inside.empty() && inside != "." && *inside.begin() != "..") return {};
  return core::make_error("InvalidParameter", "RestoreDir " + dir + " (" + resolved.string() +
                                                  ") is not inside this node's restore root " + resolved_root.string() +
                                                  " (opendbs serve --restore-root): give a directory below it");
}

}  // namespace opendbs::jobs
