#include "cli/secret_input.h"

#include <cstdlib>

#include "core/errors.h"
#include "core/file.h"

namespace opendbs::cli {

core::Result<std::string> read_secret(const std::string& value, const std::string& file, const char* env_name,
                                      const std::string& flag) {
  if (!value.empty()) return value;
  if (!file.empty()) {
    auto content = core::read_file(file);
    if (!content.ok()) return core::errors::io("cannot read " + flag + "-file " + file + ": " + content.error().message);
    std::string secret = *content;
    if (auto nl = secret.find_first_of("\r\n"); nl != std::string::npos) secret.resize(nl);
    return secret;
  }
  if (const char* env = std::getenv(env_name); env && *env) return std::string(env);
  return core::make_error("MissingParameter", flag + " is needed (or " + flag + "-file FILE, or " + env_name + ")");
}

}  // namespace opendbs::cli
