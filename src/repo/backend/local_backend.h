// LocalBackend: a repository in a directory of the local filesystem. Objects are files under the
// root; put() goes through core::write_file_durable (temp file, fsync, rename, fsync directory).
#pragma once

#include "repo/backend/backend.h"

namespace opendbs::repo {

class LocalBackend final : public Backend {
 public:
  explicit LocalBackend(std::string root);

  core::Status put(const std::string& name, std::string_view data) override;
  core::Result<std::string> get(const std::string& name) override;
  core::Result<std::string> get_range(const std::string& name, uint64_t offset, uint64_t length) override;
  core::Result<std::optional<ObjectInfo>> stat(const std::string& name) override;
  core::Result<std::vector<ObjectInfo>> list(const std::string& prefix) override;
  core::Status remove(const std::string& name) override;
  std::string describe() const override { return "local:" + root_; }

 private:
  core::Result<std::string> path_of(const std::string& name) const;
  std::string root_;
};

// Checks a name against the Backend contract; shared by every implementation.
core::Status validate_object_name(const std::string& name);

}  // namespace opendbs::repo
