#include "repo/repository.h"

#include <algorithm>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "repo/blob.h"
#include "repo/repo_state.h"
#include "repo/set_writer.h"

namespace opendbs::repo {
namespace json = boost::json;
namespace {

std::string key_object_name(const std::string& slot_id) { return std::string(format::kKeysPrefix) + slot_id; }

core::Status validate_options(const RepoOptions& o) {
  if (o.pack_target_size < 1024 || o.pack_target_size > format::kPackTargetMax)
    return core::errors::invalid_parameter("pack size", std::to_string(o.pack_target_size), "1 KiB .. 1 GiB");
  return validate_chunker_params(o.chunker);
}

core::Result<std::string> read_config_repo_id(Backend& backend) {
  auto text = backend.get(std::string(format::kConfigName));
  if (!text.ok()) {
    if (text.error().code == "NotFound")
      return core::errors::not_found("no opendbs repository at " + backend.describe() + " (no config object)");
    return text.error();
  }
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return core::errors::corrupt("repository config is not a JSON object");
  const auto& o = v.as_object();
  const auto* f = o.if_contains("format");
  const auto* ver = o.if_contains("version");
  const auto* id = o.if_contains("repo_id");
  if (!f || !f->is_string() || f->as_string() != format::kConfigFormat || !id || !id->is_string())
    return core::errors::corrupt("repository config is not an opendbs repository config");
  if (!ver || !ver->is_int64() || ver->as_int64() != format::kVersion)
    return core::errors::corrupt("repository format version " + (ver ? json::serialize(*ver) : std::string("?")) +
                                 " is not supported by this opendbs (it reads version 1)");
  return std::string(id->as_string());
}

// The master key from the first slot `secret` opens (or the exported key itself).
core::Result<MasterKey> unlock(Backend& backend, const Secret& secret, const std::string& repo_id) {
  if (secret.master_key) {
    if (secret.master_key->repo_id != repo_id)
      return core::make_error("InvalidParameterValid", "the exported key file belongs to repository " +
                                                           secret.master_key->repo_id + ", not " + repo_id);
    return *secret.master_key;
  }
  OPENDBS_ASSIGN(auto slots, backend.list(std::string(format::kKeysPrefix)));
  for (const auto& slot : slots) {
    OPENDBS_ASSIGN(auto text, backend.get(slot.name));
    auto key = open_key_slot(text, secret);
    if (!key.ok()) continue;  // a damaged slot must not lock out the others
    if (*key && (*key)->repo_id == repo_id) return std::move(**key);
  }
  return core::make_error("InvalidParameterValid", "wrong passphrase or key file: none of the " +
                                                       std::to_string(slots.size()) + " key slots of " +
                                                       backend.describe() + " opens with it");
}

}  // namespace

Repository::Repository(std::unique_ptr<RepoState> state) : state_(std::move(state)) {}
Repository::~Repository() = default;

core::Result<std::unique_ptr<Repository>> Repository::init(std::unique_ptr<Backend> backend, const KeySource& key,
                                                           const RepoOptions& options) {
  OPENDBS_TRY(validate_options(options));
  OPENDBS_ASSIGN(auto secret, read_secret(key));
  OPENDBS_ASSIGN(auto existing, backend->stat(std::string(format::kConfigName)));
  if (existing) return core::errors::invalid_parameter("repository", backend->describe(), "a location with no repository");
  auto state = std::make_unique<RepoState>();
  state->options = options;
  state->clock = options.clock ? options.clock : &core::SystemClock::instance();
  state->key = secret.master_key ? *secret.master_key
                                 : new_master_key(core::to_hex(core::random_bytes(32)), options.chunker);
  // The key slot first, then config: a crash in between leaves no repository, never a keyless one.
  KeySlotInfo info{"", options.key_label, "", state->clock->now_ms()};
  if (!secret.master_key) {
    auto slot = seal_key_slot(state->key, secret, info, options.scrypt_log_n);
    OPENDBS_TRY(backend->put(key_object_name(info.slot_id), slot));
  }
  json::object config{{"format", format::kConfigFormat},
                      {"version", format::kVersion},
                      {"repo_id", state->key.repo_id},
                      {"created_ms", state->clock->now_ms()}};
  OPENDBS_TRY(backend->put(std::string(format::kConfigName), json::serialize(config)));
  state->backend = std::move(backend);
  state->index = std::make_shared<ChunkIndex>();
  return std::unique_ptr<Repository>(new Repository(std::move(state)));
}

core::Result<std::unique_ptr<Repository>> Repository::open(std::unique_ptr<Backend> backend, const KeySource& key,
                                                           const RepoOptions& options) {
  if (options.pack_target_size < 1024 || options.pack_target_size > format::kPackTargetMax)
    return core::errors::invalid_parameter("pack size", std::to_string(options.pack_target_size), "1 KiB .. 1 GiB");
  OPENDBS_ASSIGN(auto repo_id, read_config_repo_id(*backend));
  OPENDBS_ASSIGN(auto secret, read_secret(key));
  auto state = std::make_unique<RepoState>();
  OPENDBS_ASSIGN(state->key, unlock(*backend, secret, repo_id));
  state->options = options;
  state->options.chunker = state->key.chunker;
  state->clock = options.clock ? options.clock : &core::SystemClock::instance();
  state->backend = std::move(backend);
  OPENDBS_ASSIGN(state->index, load_index(*state, nullptr, &state->index_files));
  return std::unique_ptr<Repository>(new Repository(std::move(state)));
}

const std::string& Repository::repo_id() const { return state_->key.repo_id; }

bool Repository::chunk_matches(std::string_view id, std::string_view plaintext) const {
  const ChunkBlob blob(state_->key, state_->options.compression, plaintext);
  return core::constant_time_equal(blob.id(), id);
}
Backend& Repository::backend() { return *state_->backend; }

core::Result<std::unique_ptr<SetWriter>> Repository::begin_set(const std::string& set_id) {
  return make_set_writer(*state_, set_id);
}

core::Result<std::vector<std::string>> Repository::list_sets() {
  OPENDBS_ASSIGN(auto objects, state_->backend->list(std::string(format::kSetsPrefix)));
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.name.substr(format::kSetsPrefix.size()));
  std::sort(out.begin(), out.end());
  return out;
}

core::Result<Manifest> Repository::load_manifest(const std::string& set_id) {
  OPENDBS_TRY(validate_set_id(set_id));
  auto sealed = state_->backend->get(manifest_object_name(set_id));
  if (!sealed.ok()) {
    if (sealed.error().code == "NotFound") return core::errors::invalid_job_id(set_id);
    return sealed.error();
  }
  return decode_manifest(state_->key, set_id, *sealed);
}

core::Result<std::map<std::string, std::string>> Repository::unreadable_sets() {
  std::map<std::string, std::string> out;
  OPENDBS_ASSIGN(auto sets, list_sets());
  for (const auto& id : sets) {
    auto m = load_manifest(id);
    if (!m.ok() && m.error().code == "Corrupt") out[id] = m.error().message;
    else if (!m.ok() && m.error().code != "InvalidJobId") return m.error();  // forgotten meanwhile: not damage
  }
  return out;
}

void Repository::set_damage_observer(std::function<void()> observer) {
  std::lock_guard lk(state_->damage_mutex);
  state_->on_damage = std::move(observer);
}

core::Status Repository::forget_set(const std::string& set_id) {
  OPENDBS_TRY(validate_set_id(set_id));
  OPENDBS_ASSIGN(auto existing, state_->backend->stat(manifest_object_name(set_id)));
  if (!existing) return core::errors::invalid_job_id(set_id);
  return state_->backend->remove(manifest_object_name(set_id));
}

core::Result<RepoStats> Repository::stats() {
  RepoStats s;
  OPENDBS_ASSIGN(auto sets, list_sets());
  s.sets = sets.size();
  for (const auto& id : sets) {
    OPENDBS_ASSIGN(auto m, load_manifest(id));
    for (const auto& stream : m.streams) s.logical_bytes += stream.meta.size;
  }
  OPENDBS_ASSIGN(auto packs, state_->backend->list(std::string(format::kDataPrefix)));
  s.packs = packs.size();
  for (const auto& p : packs) s.stored_bytes += p.size;
  OPENDBS_ASSIGN(auto index, fresh_index(*state_));
  s.unique_bytes = index->raw_bytes();
  s.dedup_ratio = s.stored_bytes ? static_cast<double>(s.logical_bytes) / static_cast<double>(s.stored_bytes) : 0;
  return s;
}

core::Result<KeySlotInfo> Repository::add_key(const KeySource& key, const std::string& label) {
  OPENDBS_ASSIGN(auto secret, read_secret(key));
  if (secret.master_key)
    return core::errors::invalid_parameter("key file", key.key_file.value_or(""),
                                           "a passphrase or random key file, not an exported master key");
  KeySlotInfo info{"", label, "", state_->clock->now_ms()};
  auto slot = seal_key_slot(state_->key, secret, info, state_->options.scrypt_log_n);
  OPENDBS_TRY(state_->backend->put(key_object_name(info.slot_id), slot));
  return info;
}

core::Result<std::vector<KeySlotInfo>> Repository::list_keys() {
  OPENDBS_ASSIGN(auto objects, state_->backend->list(std::string(format::kKeysPrefix)));
  std::vector<KeySlotInfo> out;
  for (const auto& o : objects) {
    OPENDBS_ASSIGN(auto text, state_->backend->get(o.name));
    auto info = parse_key_slot_info(text);
    if (!info.ok()) return info.error().with_context("key slot " + o.name);
    out.push_back(std::move(*info));
  }
  return out;
}

core::Status Repository::remove_key(const std::string& slot_id) {
  OPENDBS_ASSIGN(auto keys, list_keys());
  bool found = false;
  for (const auto& k : keys) found = found || k.slot_id == slot_id;
  if (!found) return core::errors::not_found("no key slot " + slot_id);
  if (keys.size() == 1)
    return core::make_error("InvalidParameter", "refusing to remove the last key slot: the repository would be "
                                                "unreadable; add another key first");
  return state_->backend->remove(key_object_name(slot_id));
}

std::string Repository::export_key() const { return master_key_json(state_->key); }

}  // namespace opendbs::repo
