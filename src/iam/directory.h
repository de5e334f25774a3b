// iam::Directory — accounts, RAM users, AccessKeys and the policy documents attached to users, kept in
// the catalog. Secrets are sealed with the node's SecretBox. Used by the node (to authenticate and
// authorise requests) and by `opendbs admin` (to manage them); both see each other's changes at the
// next lookup because every call reads the catalog.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/store.h"
#include "iam/policy.h"
#include "iam/secret_box.h"

namespace opendbs::iam {

struct Principal {
  std::string account_id;
  std::string user_name;        // empty for the account's root key
  std::string access_key_id;
  std::string access_key_secret;
  std::vector<Policy> policies; // the user's attached policies (unused for root)
  bool is_root() const { return user_name.empty(); }
};

struct AccessKeyPair {
  std::string access_key_id;
  std::string access_key_secret;
};

class Directory {
 public:
  Directory(catalog::Store& store, SecretBox box) : store_(store), box_(std::move(box)) {}
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  // The account named "default" with a root AccessKey, created on first call. When `wanted` is given
  // (OPENDBS_ROOT_ACCESS_KEY_ID/SECRET) and no such key exists yet, that pair becomes a root key.
  // Returns the pair only when it was created now (so it can be shown once), else nullopt.
  core::Result<std::optional<AccessKeyPair>> ensure_root(const std::optional<AccessKeyPair>& wanted);

  core::Result<std::string> create_account(const std::string& name);   // returns the 16-digit AccountId
  core::Result<AccessKeyPair> create_root_key(const std::string& account_id);
  core::Status create_user(const std::string& account_id, const std::string& user_name);
  core::Result<AccessKeyPair> create_access_key(const std::string& account_id, const std::string& user_name);
  core::Status set_access_key_active(const std::string& access_key_id, bool active);
  // Validates the document (iam::parse_policy) and attaches it under `policy_name` (replacing one of that name).
  core::Status attach_policy(const std::string& account_id, const std::string& user_name,
                             const std::string& policy_name, const std::string& document);
  core::Status detach_policy(const std::string& account_id, const std::string& user_name,
                             const std::string& policy_name);
  core::Result<std::string> account_by_name(const std::string& name);

  // The principal behind an AccessKeyId, or InvalidAccessKeyId.NotFound / .Inactive.
  core::Result<Principal> lookup(const std::string& access_key_id);

 private:
  core::Result<Principal> load_principal(const std::string& access_key_id);
  core::Status set_policy(const std::string& account_id, const std::string& user_name, const std::string& policy_name,
                          const std::string& document);
  core::Result<AccessKeyPair> add_key(const std::string& account_id, const std::string& user_name,
                                      std::optional<AccessKeyPair> wanted);
  catalog::Store& store_;
  SecretBox box_;
  // Opened principals by AccessKeyId, valid while the catalog's change counter stands still (an
  // `opendbs admin` change in another process moves it, so it applies from the next request).
  std::mutex cache_mu_;
  uint64_t cache_counter_ = 0;
  std::map<std::string, Principal> cache_;
};

// The RAM decision for one call: root keys may do everything in their account; users need an Allow
// and no Deny among their policies. Returns Request.Forbidden when denied.
core::Status authorize(const Principal& who, const AccessRequest& request);

}  // namespace opendbs::iam
