#include "repo/keys.h"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "core/file.h"
#include "repo/format.h"

namespace opendbs::repo {
namespace json = boost::json;
namespace {

core::Result<std::string> scrypt_kek(std::string_view secret, std::string_view salt, int log_n, int r, int p) {
  if (log_n < 1 || log_n > 24 || r < 1 || r > 32 || p < 1 || p > 16)
    return core::errors::corrupt("key slot has out-of-range scrypt parameters");
  std::string kek(format::kKeySize, '\0');
  const uint64_t n = uint64_t{1} << log_n;
  const uint64_t maxmem = 256 * n * static_cast<uint64_t>(r) * static_cast<uint64_t>(p) + (1u << 20);
  if (EVP_PBE_scrypt(secret.data(), secret.size(), reinterpret_cast<const unsigned char*>(salt.data()), salt.size(),
                     n, static_cast<uint64_t>(r), static_cast<uint64_t>(p), maxmem,
                     reinterpret_cast<unsigned char*>(kek.data()), kek.size()) != 1)
    return core::errors::internal("scrypt failed (out of memory?)");
  return kek;
}

core::Result<std::string> b64_field(const json::object& o, const char* name, size_t want_size) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return core::errors::corrupt(std::string("missing field ") + name);
  OPENDBS_ASSIGN(auto bytes, core::base64_decode(std::string_view(v->as_string())));
  if (want_size && bytes.size() != want_size) return core::errors::corrupt(std::string("bad length of ") + name);
  return bytes;
}

core::Result<json::object> parse_object(std::string_view text, const char* what) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return core::errors::corrupt(std::string(what) + " is not a JSON object");
  return v.as_object();
}

int64_t int_field(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_int64() ? v->as_int64() : (v && v->is_uint64() ? static_cast<int64_t>(v->as_uint64()) : -1);
}

std::string str_field(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

MasterKey new_master_key(std::string repo_id, ChunkerParams chunker) {
  return MasterKey{std::move(repo_id), core::random_bytes(format::kKeySize), core::random_bytes(format::kKeySize),
                   chunker, ChunkIds::kPayload};
}

std::string master_key_json(const MasterKey& key) {
  json::object o{{"format", format::kMasterKeyFormat},
                 {"version", format::kVersion},
                 {"repo_id", key.repo_id},
                 {"data_key", core::base64_encode(key.data_key)},
                 {"chunk_key", core::base64_encode(key.chunk_key)},
                 {"chunker",
                  {{"min_size", key.chunker.min_size},
                   {"avg_size", key.chunker.avg_size},
                   {"max_size", key.chunker.max_size}}}};
  if (key.chunk_ids == ChunkIds::kPayload) o["chunk_ids"] = "payload";
  return json::serialize(o);
}

core::Result<MasterKey> parse_master_key_json(std::string_view text) {
  OPENDBS_ASSIGN(auto o, parse_object(text, "master key"));
  if (str_field(o, "format") != format::kMasterKeyFormat || int_field(o, "version") != format::kVersion)
    return core::errors::corrupt("not an opendbs master key of format version 1");
  MasterKey key;
  key.repo_id = str_field(o, "repo_id");
  OPENDBS_ASSIGN(key.data_key, b64_field(o, "data_key", format::kKeySize));
  OPENDBS_ASSIGN(key.chunk_key, b64_field(o, "chunk_key", format::kKeySize));
  const auto* c = o.if_contains("chunker");
  if (!c || !c->is_object()) return core::errors::corrupt("master key has no chunker parameters");
  key.chunker = {static_cast<uint32_t>(int_field(c->as_object(), "min_size")),
                 static_cast<uint32_t>(int_field(c->as_object(), "avg_size")),
                 static_cast<uint32_t>(int_field(c->as_object(), "max_size"))};
  OPENDBS_TRY(validate_chunker_params(key.chunker));
  // Absent in keys written before payload ids existed: those repositories keep plaintext ids.
  if (!o.contains("chunk_ids")) key.chunk_ids = ChunkIds::kPlaintext;
  else if (str_field(o, "chunk_ids") != "payload")
    return core::errors::corrupt("master key has an unknown chunk id scheme " + json::serialize(o.at("chunk_ids")));
  if (key.repo_id.size() != 64) return core::errors::corrupt("master key has a malformed repo_id");
  return key;
}

core::Result<Secret> read_secret(const KeySource& source) {
  if (source.passphrase) {
    if (source.passphrase->empty()) return core::errors::invalid_parameter("passphrase", "", "a non-empty passphrase");
    return Secret{*source.passphrase, "passphrase", std::nullopt};
  }
  if (!source.key_file) return core::errors::missing_parameter("passphrase or key file");
  OPENDBS_ASSIGN(auto bytes, core::read_file(*source.key_file));
  Secret secret{bytes, "key_file", std::nullopt};
  if (bytes.find(format::kMasterKeyFormat) != std::string::npos) {
    OPENDBS_ASSIGN(auto key, parse_master_key_json(bytes));
    secret.master_key = std::move(key);
  } else if (bytes.size() < 16) {
    return core::errors::invalid_parameter("key file", *source.key_file, "a file of at least 16 random bytes");
  }
  return secret;
}

std::string seal_key_slot(const MasterKey& key, const Secret& secret, KeySlotInfo& info, int scrypt_log_n) {
  info.slot_id = core::to_hex(core::random_bytes(8));
  info.source = secret.source;
  const std::string salt = core::random_bytes(format::kSaltSize);
  auto kek = scrypt_kek(secret.bytes, salt, scrypt_log_n, format::kScryptR, format::kScryptP);
  assert(kek.ok());  // parameters are ours and in range
  const std::string aad = std::string(format::kSlotAad) + info.slot_id;
  json::object o{{"version", format::kVersion},  {"slot_id", info.slot_id},   {"label", info.label},
                 {"source", info.source},          {"created_ms", info.created_ms}, {"kdf", "scrypt"},
                 {"scrypt_log_n", scrypt_log_n},   {"scrypt_r", format::kScryptR},  {"scrypt_p", format::kScryptP},
                 {"salt", core::base64_encode(salt)},
                 {"wrapped", core::base64_encode(core::aes256gcm_seal(*kek, master_key_json(key), aad))}};
  return json::serialize(o);
}

core::Result<KeySlotInfo> parse_key_slot_info(std::string_view slot_json) {
  OPENDBS_ASSIGN(auto o, parse_object(slot_json, "key slot"));
  if (int_field(o, "version") != format::kVersion || str_field(o, "kdf") != "scrypt")
    return core::errors::corrupt("key slot is not version 1 with kdf scrypt");
  return KeySlotInfo{str_field(o, "slot_id"), str_field(o, "label"), str_field(o, "source"),
                     int_field(o, "created_ms")};
}

core::Result<std::optional<MasterKey>> open_key_slot(std::string_view slot_json, const Secret& secret) {
  OPENDBS_ASSIGN(auto info, parse_key_slot_info(slot_json));
  OPENDBS_ASSIGN(auto o, parse_object(slot_json, "key slot"));
  OPENDBS_ASSIGN(auto salt, b64_field(o, "salt", format::kSaltSize));
  OPENDBS_ASSIGN(auto wrapped, b64_field(o, "wrapped", 0));
  OPENDBS_ASSIGN(auto kek, scrypt_kek(secret.bytes, salt, static_cast<int>(int_field(o, "scrypt_log_n")),
                                      static_cast<int>(int_field(o, "scrypt_r")),
                                      static_cast<int>(int_field(o, "scrypt_p"))));
  auto plain = core::aes256gcm_open(kek, wrapped, std::string(format::kSlotAad) + info.slot_id);
  if (!plain.ok()) return std::optional<MasterKey>{};
  OPENDBS_ASSIGN(auto key, parse_master_key_json(*plain));
  return std::optional<MasterKey>(std::move(key));
}

}  // namespace opendbs::repo
