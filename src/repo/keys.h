// The master key and the key slots that wrap it (docs/REPOSITORY.md §3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "repo/chunker.h"

namespace opendbs::repo {

// Where the secret that opens a repository comes from. Exactly one should be set.
struct KeySource {
  std::optional<std::string> passphrase;
  std::optional<std::string> key_file;  // a path
};

// What a chunk id covers (docs/REPOSITORY.md §4): the stored payload (kind byte and compressed bytes)
// in every repository created now; the plaintext in repositories created before payload ids existed.
enum class ChunkIds { kPlaintext, kPayload };

struct MasterKey {
  std::string repo_id;    // 64 hex
  std::string data_key;   // 32 raw bytes, AES-256-GCM
  std::string chunk_key;  // 32 raw bytes, HMAC-SHA256 of chunk ids
  ChunkerParams chunker;
  ChunkIds chunk_ids = ChunkIds::kPayload;
};

MasterKey new_master_key(std::string repo_id, ChunkerParams chunker);
std::string master_key_json(const MasterKey& key);  // also the `repo key export` format
core::Result<MasterKey> parse_master_key_json(std::string_view json);

struct KeySlotInfo {
  std::string slot_id;  // 16 hex
  std::string label;
  std::string source;   // "passphrase" or "key_file"
  int64_t created_ms = 0;
};

// A secret read from a KeySource: the bytes scrypt takes, or a whole master key (an exported key file).
struct Secret {
  std::string bytes;
  std::string source;  // "passphrase" or "key_file"
  std::optional<MasterKey> master_key;
};
core::Result<Secret> read_secret(const KeySource& source);

// A new slot (random id and salt) wrapping `key` under `secret`; returns the slot JSON.
std::string seal_key_slot(const MasterKey& key, const Secret& secret, KeySlotInfo& info, int scrypt_log_n);
core::Result<KeySlotInfo> parse_key_slot_info(std::string_view slot_json);
// The master key if `secret` opens the slot, nullopt if it does not; an error if the slot is malformed.
core::Result<std::optional<MasterKey>> open_key_slot(std::string_view slot_json, const Secret& secret);

}  // namespace opendbs::repo
