#include "iam/secret_box.h"

#include "core/crypto.h"
#include "core/errors.h"
#include "core/file.h"

namespace opendbs::iam {

core::Result<SecretBox> SecretBox::open_or_create(const std::string& data_dir) {
  const std::string path = data_dir + "/master.key";
  auto existing = core::read_file(path);
  if (!existing.ok() && existing.error().code != "NotFound") return existing.error();
  if (!existing.ok()) {
    const std::string key = core::random_bytes(32);
    OPENDBS_TRY(core::write_file_durable(path, core::to_hex(key) + "\n", 0600));
    return SecretBox(key);
  }
  std::string text = *existing;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto key = core::from_hex(text);
  if (!key.ok() || key->size() != 32)
    return core::errors::corrupt(path + " is not a 64-digit hex master key; restore it from your backup");
  return SecretBox(*key);
}

std::string SecretBox::seal(const std::string& plaintext) const {
  return core::base64_encode(core::aes256gcm_seal(key_, plaintext, "opendbs-secret"));
}

core::Result<std::string> SecretBox::open(const std::string& sealed) const {
  OPENDBS_ASSIGN(auto raw, core::base64_decode(sealed));
  auto plain = core::aes256gcm_open(key_, raw, "opendbs-secret");
  if (!plain.ok()) return core::errors::corrupt("a sealed secret cannot be opened with this node's master.key");
  return plain;
}

std::string SecretBox::derive_key(std::string_view purpose) const { return core::hmac_sha256(key_, purpose); }

}  // namespace opendbs::iam
