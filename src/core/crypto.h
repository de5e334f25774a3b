// Small wrappers over OpenSSL used by signatures, the repository and the node's secret store.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::core {

std::string sha256(std::string_view data);                          // 32 raw bytes
std::string hmac_sha1(std::string_view key, std::string_view data);   // 20 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data); // 32 raw bytes
std::string to_hex(std::string_view bytes);                          // lower case
Result<std::string> from_hex(std::string_view hex);
std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);
std::string random_bytes(size_t n);
// Compares without leaking where the first difference is.
bool constant_time_equal(std::string_view a, std::string_view b);

// AES-256-GCM. seal() returns nonce(12) || ciphertext || tag(16) with a fresh random nonce; open()
// verifies the tag and fails with a Corrupt error on any tampering or a wrong key. `aad` is bound in.
std::string aes256gcm_seal(std::string_view key32, std::string_view plaintext, std::string_view aad = {});
Result<std::string> aes256gcm_open(std::string_view key32, std::string_view sealed, std::string_view aad = {});
// The same into `plaintext`, which a caller reuses across calls to spare an allocation per message;
// on error its contents are unspecified.
Status aes256gcm_open_into(std::string_view key32, std::string_view sealed, std::string_view aad,
                          std::string& plaintext);

}  // namespace opendbs::core
