#include "catalog/store.h"

#include <chrono>

#include "catalog/sqlite/sqlite_store.h"
#include "core/errors.h"
#include "core/log.h"

namespace opendbs::catalog {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::plan: return "plan";
    case Kind::task: return "task";
    case Kind::backup_set: return "backup_set";
    case Kind::log_file: return "log_file";
    case Kind::restore_task: return "restore_task";
    case Kind::download_task: return "download_task";
    case Kind::account: return "account";
    case Kind::user: return "user";
    case Kind::access_key: return "access_key";
    case Kind::client_token: return "client_token";
    case Kind::node: return "node";
    case Kind::precheck: return "precheck";
  }
  return "unknown";
}

void Store::on_unreadable_record(std::function<void(Kind, const std::string&)> observer) {
  std::lock_guard lock(unreadable_mu_);
  unreadable_observer_ = std::move(observer);
}

void Store::note_unreadable(Kind kind, const std::string& table, const std::string& id, const std::string& why) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch()).count();
  bool log = false;
  std::function<void(Kind, const std::string&)> observer;
  {
    std::lock_guard lock(unreadable_mu_);
    observer = unreadable_observer_;
    if (unreadable_logged_ms_.size() >= 1000) unreadable_logged_ms_.clear();  // bounded; a new minute per record
    const std::string key = table + "/" + kind_name(kind) + "/" + id;
    auto [it, fresh] = unreadable_logged_ms_.try_emplace(key, now_ms);
    if (fresh || now_ms - it->second >= 60000) {
      it->second = now_ms;
      log = true;
    }
  }
  if (log)
    core::log_event(core::LogLevel::error, "catalog_unreadable_record",
                    {{"table", table}, {"kind", kind_name(kind)}, {"id", id}, {"error", why},
                     {"effect", "listings and task claims leave the record out; reading it directly fails"}});
  if (observer) observer(kind, id);
}

core::Result<std::unique_ptr<Store>> open_store(const std::string& url) {
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0)
    return core::make_error("InvalidParameterValid",
                            "a PostgreSQL catalog is not available in this build; use sqlite:PATH (" + url + ")");
  const std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  OPENDBS_ASSIGN(auto store, SqliteStore::open(path));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace opendbs::catalog
