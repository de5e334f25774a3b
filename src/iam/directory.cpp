#include "iam/directory.h"

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/errors.h"
#include "core/ids.h"

namespace opendbs::iam {
namespace {

using catalog::Kind;
using catalog::Record;

std::string user_record_id(const std::string& account_id, const std::string& user_name) {
  return account_id + ":" + user_name;
}

std::string mixed_case_token(size_t n) {
  // AccessKey ids and secrets in Alibaba's alphabet; random_alnum is lower case, so upper-case a random half.
  std::string s = core::random_alnum(n);
  const std::string flips = core::random_bytes(n);
  for (size_t i = 0; i < n; ++i)
    if ((flips[i] & 1) && s[i] >= 'a' && s[i] <= 'z') s[i] = static_cast<char>(s[i] - 'a' + 'A');
  return s;
}

core::Status check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() > 64)
    return core::errors::invalid_parameter(what, name, "1 to 64 characters");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '@')
      return core::errors::invalid_parameter(what, name, "letters, digits and - _ . @");
  return {};
}

}  // namespace

core::Result<std::string> Directory::account_by_name(const std::string& name) {
  std::string id;
  OPENDBS_TRY(store_.read([&](catalog::Tx& tx) -> core::Status {
    catalog::Query q{Kind::account};
    q.doc_equals = {{"Name", name}};
    OPENDBS_ASSIGN(auto found, tx.list(q));
    if (found.empty()) return core::errors::not_found("no account named \"" + name + "\"");
    id = found.front().id;
    return {};
  }));
  return id;
}

core::Result<std::string> Directory::create_account(const std::string& name) {
  OPENDBS_TRY(check_name("account name", name));
  std::string id = core::new_account_id();
  OPENDBS_TRY(store_.transact([&](catalog::Tx& tx) -> core::Status {
    catalog::Query q{Kind::account};
    q.doc_equals = {{"Name", name}};
    OPENDBS_ASSIGN(auto n, tx.count(q));
    if (n > 0) return core::make_error("InvalidParameter", "an account named \"" + name + "\" already exists");
    Record r{id, id, "", "active", core::SystemClock::instance().now_ms(), {}};
    r.doc["AccountId"] = id;
    r.doc["Name"] = name;
    return tx.put(Kind::account, r);
  }));
  return id;
}

core::Result<std::optional<AccessKeyPair>> Directory::ensure_root(const std::optional<AccessKeyPair>& wanted) {
  auto account = account_by_name("default");
  if (!account.ok() && account.error().code != "NotFound") return account.error();
  std::string account_id;
  if (account.ok()) {
    account_id = *account;
  } else {
    OPENDBS_ASSIGN(account_id, create_account("default"));
  }
  bool have_wanted = false, have_any_root = false;
  OPENDBS_TRY(store_.transact([&](catalog::Tx& tx) -> core::Status {
    catalog::Query q{Kind::access_key};
    q.account_id = account_id;
    q.parent_id = "";
    OPENDBS_ASSIGN(auto n, tx.count(q));
    have_any_root = n > 0;
    if (wanted) {
      OPENDBS_ASSIGN(auto existing, tx.get(Kind::access_key, wanted->access_key_id));
      have_wanted = existing.has_value();
    }
    return {};
  }));
  if (wanted && !have_wanted) {
    OPENDBS_ASSIGN(auto pair, add_key(account_id, "", wanted));
    return std::optional<AccessKeyPair>(pair);
  }
  if (!wanted && !have_any_root) {
    OPENDBS_ASSIGN(auto pair, add_key(account_id, "", std::nullopt));
    return std::optional<AccessKeyPair>(pair);
  }
  return std::optional<AccessKeyPair>{};
}

core::Result<AccessKeyPair> Directory::create_root_key(const std::string& account_id) {
  return add_key(account_id, "", std::nullopt);
}

core::Status Directory::create_user(const std::string& account_id, const std::string& user_name) {
  OPENDBS_TRY(check_name("user name", user_name));
  return store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto account, tx.get(Kind::account, account_id));
    if (!account) return core::errors::not_found("no account " + account_id);
    const auto id = user_record_id(account_id, user_name);
    OPENDBS_ASSIGN(auto existing, tx.get(Kind::user, id));
    if (existing) return core::make_error("InvalidParameter", "user \"" + user_name + "\" already exists");
    Record r{id, account_id, "", "active", core::SystemClock::instance().now_ms(), {}};
    r.doc["UserName"] = user_name;
    r.doc["Policies"] = boost::json::array();
    return tx.put(Kind::user, r);
  });
}

core::Result<AccessKeyPair> Directory::create_access_key(const std::string& account_id, const std::string& user_name) {
  return add_key(account_id, user_name, std::nullopt);
}

core::Result<AccessKeyPair> Directory::add_key(const std::string& account_id, const std::string& user_name,
                                               std::optional<AccessKeyPair> wanted) {
  AccessKeyPair pair = wanted ? *wanted : AccessKeyPair{"LTAI" + mixed_case_token(20), mixed_case_token(30)};
  if (pair.access_key_id.empty() || pair.access_key_secret.size() < 8)
    return core::errors::invalid_parameter("AccessKey", pair.access_key_id, "an id and a secret of 8+ characters");
  OPENDBS_TRY(store_.transact([&](catalog::Tx& tx) -> core::Status {
    if (!user_name.empty()) {
      OPENDBS_ASSIGN(auto user, tx.get(Kind::user, user_record_id(account_id, user_name)));
      if (!user) return core::errors::not_found("no user \"" + user_name + "\" in account " + account_id);
    }
    OPENDBS_ASSIGN(auto clash, tx.get(Kind::access_key, pair.access_key_id));
    if (clash) return core::make_error("InvalidParameter", "AccessKey " + pair.access_key_id + " already exists");
    Record r{pair.access_key_id, account_id, user_name, "Active", core::SystemClock::instance().now_ms(), {}};
    r.doc["AccessKeyId"] = pair.access_key_id;
    r.doc["_SecretSealed"] = box_.seal(pair.access_key_secret);
    return tx.put(Kind::access_key, r);
  }));
  return pair;
}

core::Status Directory::set_access_key_active(const std::string& access_key_id, bool active) {
  return store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto key, tx.get(Kind::access_key, access_key_id));
    if (!key) return core::errors::not_found("no AccessKey " + access_key_id);
    key->state = active ? "Active" : "Inactive";
    return tx.put(Kind::access_key, *key);
  });
}

// Replaces the user's policy named `policy_name` by `document`, or removes it when `document` is empty.
core::Status Directory::set_policy(const std::string& account_id, const std::string& user_name,
                                   const std::string& policy_name, const std::string& document) {
  return store_.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto user, tx.get(Kind::user, user_record_id(account_id, user_name)));
    if (!user) return core::errors::not_found("no user \"" + user_name + "\" in account " + account_id);
    boost::json::array kept;
    for (auto& p : user->doc["Policies"].as_array())
      if (p.at("PolicyName").as_string() != policy_name) kept.push_back(p);
    if (!document.empty()) kept.push_back(boost::json::object{{"PolicyName", policy_name}, {"Document", document}});
    user->doc["Policies"] = std::move(kept);
    return tx.put(Kind::user, *user);
  });
}

core::Status Directory::attach_policy(const std::string& account_id, const std::string& user_name,
                                      const std::string& policy_name, const std::string& document) {
  auto parsed = parse_policy(document);
  if (!parsed.ok()) return parsed.error().with_context("policy " + policy_name);
  OPENDBS_TRY(check_name("policy name", policy_name));
  if (document.empty()) return core::errors::invalid_parameter("policy document", "", "a RAM policy document");
  return set_policy(account_id, user_name, policy_name, document);
}

core::Status Directory::detach_policy(const std::string& account_id, const std::string& user_name,
                                      const std::string& policy_name) {
  return set_policy(account_id, user_name, policy_name, "");
}

core::Result<Principal> Directory::lookup(const std::string& access_key_id) {
  const uint64_t counter = store_.change_counter(catalog::Kind::access_key) ^
                           (store_.change_counter(catalog::Kind::user) << 20) ^
                           (store_.change_counter(catalog::Kind::account) << 40);
  {
    std::lock_guard lock(cache_mu_);
    if (counter != cache_counter_) {
      cache_.clear();
      cache_counter_ = counter;
    }
    auto it = cache_.find(access_key_id);
    if (it != cache_.end()) return it->second;
  }
  OPENDBS_ASSIGN(auto who, load_principal(access_key_id));
  std::lock_guard lock(cache_mu_);
  if (counter == cache_counter_ && cache_.size() < 10000) cache_[access_key_id] = who;
  return who;
}

core::Result<Principal> Directory::load_principal(const std::string& access_key_id) {
  Principal who;
  std::string sealed;
  std::vector<std::string> documents;
  OPENDBS_TRY(store_.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto key, tx.get(Kind::access_key, access_key_id));
    if (!key)
      return core::make_error("InvalidAccessKeyId.NotFound", "Specified access key is not found: " + access_key_id);
    if (key->state != "Active")
      return core::make_error("InvalidAccessKeyId.Inactive", "Specified access key is disabled: " + access_key_id);
    who.account_id = key->account_id;
    who.user_name = key->parent_id;
    who.access_key_id = access_key_id;
    sealed = std::string(key->doc.at("_SecretSealed").as_string());
    if (!who.user_name.empty()) {
      OPENDBS_ASSIGN(auto user, tx.get(Kind::user, user_record_id(who.account_id, who.user_name)));
      if (user)
        for (auto& p : user->doc["Policies"].as_array()) documents.emplace_back(p.at("Document").as_string());
    }
    return {};
  }));
  OPENDBS_ASSIGN(who.access_key_secret, box_.open(sealed));
  for (const auto& d : documents) {
    auto policy = parse_policy(d);
    if (policy.ok()) who.policies.push_back(std::move(*policy));  // validated when attached
  }
  return who;
}

core::Status authorize(const Principal& who, const AccessRequest& request) {
  if (who.is_root()) return {};
  if (evaluate(who.policies, request) == Decision::allow) return {};
  return core::make_error("Request.Forbidden", "Have no Permissions");
}

}  // namespace opendbs::iam
