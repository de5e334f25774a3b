#include "catalog/store.h"

#include "catalog/sqlite/sqlite_store.h"
#include "core/errors.h"

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

core::Result<std::unique_ptr<Store>> open_store(const std::string& url) {
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0)
    return core::make_error("InvalidParameterValid",
                            "a PostgreSQL catalog is not available in this build; use sqlite:PATH (" + url + ")");
  const std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  OPENDBS_ASSIGN(auto store, SqliteStore::open(path));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace opendbs::catalog
