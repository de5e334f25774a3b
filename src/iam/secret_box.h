// SecretBox seals the secrets the node must keep (AccessKey secrets, database passwords) with the
// node's master key, so that neither the catalog file nor a log ever holds them in the clear.
// The master key lives in DATA_DIR/master.key (mode 0600), created on first start.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::iam {

class SecretBox {
 public:
  // Loads DATA_DIR/master.key, creating it (32 random bytes, hex) if it does not exist.
  static core::Result<SecretBox> open_or_create(const std::string& data_dir);
  static SecretBox from_key(std::string key32) { return SecretBox(std::move(key32)); }

  std::string seal(const std::string& plaintext) const;                 // base64 text, safe to store
  core::Result<std::string> open(const std::string& sealed) const;      // Corrupt on tampering/wrong key
  // A 32-byte key for one purpose (e.g. signing download links), HMAC-SHA256(master key, purpose):
  // stable across restarts, and knowing it reveals neither the master key nor other purposes' keys.
  std::string derive_key(std::string_view purpose) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace opendbs::iam
