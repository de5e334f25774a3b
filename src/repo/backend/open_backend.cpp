#include <string>

#include "core/errors.h"
#include "repo/backend/backend.h"
#include "repo/backend/local_backend.h"
#include "repo/backend/retrying_backend.h"
#include "repo/backend/s3_backend.h"
#include "repo/backend/s3_config.h"

namespace opendbs::repo {

core::Result<std::unique_ptr<Backend>> open_backend(const std::string& url) {
  if (url.rfind("s3://", 0) == 0) {
    OPENDBS_ASSIGN(S3Config config, parse_s3_url(url));
    const RetryPolicy retry = config.retry;
    return std::unique_ptr<Backend>(
        std::make_unique<RetryingBackend>(std::make_unique<S3Backend>(std::move(config)), retry));
  }
  if (url.find("://") != std::string::npos && url.rfind("file://", 0) != 0)
    return core::errors::invalid_parameter("repository URL", url,
                                           "a directory path, file://PATH or s3://BUCKET/PREFIX");
  std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return core::make_error("InvalidParameterValid", "empty repository location");
  return std::unique_ptr<Backend>(std::make_unique<LocalBackend>(path));
}

}  // namespace opendbs::repo
