// repo::Backend — where the repository's objects live: a flat namespace of named, immutable blobs.
//
// Contract (every implementation passes backend_conformance_test):
// - Names are relative paths of [A-Za-z0-9._/-], never starting with '/' nor containing "..".
// - put() is atomic and durable: when it returns ok the whole object is stored and survives a crash;
//   before that, readers see either no object or (when overwriting) the previous one — never a part.
// - get()/get_range() return exactly the stored bytes or an error; a range past the end is an error
//   (code "Corrupt"), so that truncation can never pass for data. A missing object is code "NotFound".
// - list() returns every object whose name starts with `prefix`, in no particular order.
// - remove() of a missing object succeeds (idempotent).
// - Implementations are thread-safe: the repository calls them from many worker threads at once.
// - A backend knows nothing of chunks, packs or manifests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace opendbs::repo {

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual core::Status put(const std::string& name, std::string_view data) = 0;
  virtual core::Result<std::string> get(const std::string& name) = 0;
  virtual core::Result<std::string> get_range(const std::string& name, uint64_t offset, uint64_t length) = 0;
  virtual core::Result<std::optional<ObjectInfo>> stat(const std::string& name) = 0;
  virtual core::Result<std::vector<ObjectInfo>> list(const std::string& prefix) = 0;
  virtual core::Status remove(const std::string& name) = 0;

  // A short description for messages, e.g. "local:/var/lib/opendbs/repo" or "s3://bucket/prefix".
  virtual std::string describe() const = 0;
};

// Opens the backend a repository URL names: a directory path (absolute or relative, or file://...)
// or s3://BUCKET[/PREFIX][?option=value&...] (RetryingBackend around S3Backend; docs/S3.md lists the options).
core::Result<std::unique_ptr<Backend>> open_backend(const std::string& url);

}  // namespace opendbs::repo
