#include <string>

#include "core/errors.h"
#include "repo/backend/backend.h"
#include "repo/backend/local_backend.h"

namespace opendbs::repo {

core::Result<std::unique_ptr<Backend>> open_backend(const std::string& url) {
  if (url.rfind("s3://", 0) == 0)
    return core::make_error("InvalidParameterValid", "S3 repositories are not available in this build: " + url);
  std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return core::make_error("InvalidParameterValid", "empty repository location");
  return std::unique_ptr<Backend>(std::make_unique<LocalBackend>(path));
}

}  // namespace opendbs::repo
