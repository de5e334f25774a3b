#include "api/ops/common.h"

#include <algorithm>
#include <boost/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "engines/restore_objects.h"

namespace opendbs::api::ops {
namespace {

constexpr const char* kWeekdays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

const char* weekday_of(const std::string& token) {
  for (const char* d : kWeekdays)
    if (lower(d) == lower(token)) return d;
  return nullptr;
}

core::Result<boost::json::array> parse_object_list(const std::string& name, const std::string& value) {
  boost::system::error_code ec;
  auto v = boost::json::parse(value, ec);
  if (ec || !v.is_array()) return core::errors::invalid_parameter(name, value, "a JSON array of objects");
  for (const auto& item : v.as_array()) {
    if (!item.is_object() || !item.as_object().contains("DBName") || !item.at("DBName").is_string() ||
        item.at("DBName").as_string().empty())
      return core::errors::invalid_parameter(name, value, "every element an object with a non-empty \"DBName\"");
  }
  return v.as_array();
}

}  // namespace

core::Result<catalog::Record> load_plan(catalog::Tx& tx, const Context& ctx, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto plan, tx.get(catalog::Kind::plan, plan_id));
  if (!plan || plan->account_id != ctx.caller.account_id || plan->state == "released")
    return core::errors::invalid_job_id(plan_id);
  return std::move(*plan);
}

boost::json::object public_view(const boost::json::object& doc) {
  boost::json::object out;
  for (const auto& kv : doc)
    if (!kv.key().starts_with("_")) out[kv.key()] = kv.value();
  return out;
}

Page page_of(const Context& ctx) {
  Page p;
  if (auto n = ctx.opt_int("PageNum")) p.num = *n;
  if (auto s = ctx.opt_int("PageSize")) p.size = *s;
  return p;
}

boost::json::object page_answer(const Page& page, int64_t total, const std::string& item_name,
                                boost::json::array items) {
  boost::json::object out;
  out["PageNum"] = page.num;
  out["PageSize"] = page.size;
  out["TotalElements"] = total;
  out["TotalPages"] = page.size > 0 ? (total + page.size - 1) / page.size : 0;
  out["Items"] = boost::json::object{{item_name, std::move(items)}};
  return out;
}

core::Result<boost::json::object> list_plan_records(const Context& ctx, catalog::Query q, const std::string& item_name) {
  const Page page = page_of(ctx);
  q.offset = page.num * page.size;
  q.limit = page.size;
  int64_t total = 0;
  boost::json::array items;
  OPENDBS_TRY(ctx.services.store.read([&](catalog::Tx& tx) -> core::Status {
    if (ctx.has("BackupPlanId")) OPENDBS_TRY(load_plan(tx, ctx, ctx.str("BackupPlanId")));
    OPENDBS_ASSIGN(total, tx.count(q));
    OPENDBS_ASSIGN(auto records, tx.list(q));
    for (const auto& r : records) {
      if (!ctx.has("BackupPlanId") && !load_plan(tx, ctx, r.parent_id).ok()) {  // gone with its plan
        --total;
        continue;
      }
      items.push_back(public_view(r.doc));
    }
    return {};
  }));
  return page_answer(page, total, item_name, std::move(items));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int64_t to_ms(int64_t value) { return value < 100000000000LL ? value * 1000 : value; }

std::string normalize_period(const std::string& value) {
  std::string out;
  std::stringstream in(value);
  std::string token;
  while (std::getline(in, token, ',')) {
    const char* day = weekday_of(trim(token));
    if (day) out += (out.empty() ? "" : ",") + std::string(day);
  }
  return out;
}

core::Status check_backup_period(const std::string& name, const std::string& value) {
  std::stringstream in(value);
  std::string token;
  int count = 0;
  while (std::getline(in, token, ',')) {
    if (!weekday_of(trim(token)))
      return core::errors::invalid_parameter(name, value, "a comma-separated list of Monday..Sunday");
    ++count;
  }
  if (count == 0) return core::errors::invalid_parameter(name, value, "a comma-separated list of Monday..Sunday");
  return {};
}

core::Status check_start_time(const std::string& name, const std::string& value) {
  const bool shape = value.size() == 5 && value[2] == ':' && std::isdigit(value[0]) && std::isdigit(value[1]) &&
                     std::isdigit(value[3]) && std::isdigit(value[4]);
  if (!shape || std::stoi(value.substr(0, 2)) > 23 || std::stoi(value.substr(3, 2)) > 59)
    return core::errors::invalid_parameter(name, value, "HH:mm in UTC, 00:00 to 23:59");
  return {};
}

core::Status check_backup_objects(const std::string& name, const std::string& value) {
  OPENDBS_ASSIGN(auto list, parse_object_list(name, value));
  for (const auto& item : list) {
    for (const char* key : {"TableIncludes", "TableExcludes"}) {
      if (!item.as_object().contains(key)) continue;
      const auto& tables = item.at(key);
      if (!tables.is_array()) return core::errors::invalid_parameter(name, value, std::string(key) + " as a JSON array");
      for (const auto& t : tables.as_array())
        if (!t.is_object() || !t.as_object().contains("TableName") || !t.at("TableName").is_string())
          return core::errors::invalid_parameter(name, value, std::string(key) + " elements with \"TableName\"");
    }
  }
  return {};
}

core::Status check_no_nul(const std::string& name, std::string_view value) {
  if (value.find('\0') == std::string_view::npos) return {};
  return core::make_error("InvalidParameter", name + " contains a NUL byte, which ends a name or a path: the server "
                                              "or the file system would use only what comes before it");
}

namespace {

// A name RestoreObjects hands to the destination server as a new name. PostgreSQL keeps only 63 bytes
// of a name (NAMEDATALEN - 1): it would create the object under a clipped name — cut inside a character,
// even — and the restore would then look for one that does not exist. Restores that rename are
// PostgreSQL's; MySQL's limit (64 characters) is no smaller.
constexpr size_t kMaxNewNameBytes = 63;

core::Status check_new_name(const std::string& param, const char* field, const boost::json::value* v) {
  if (v == nullptr) return {};
  if (!v->is_string()) return core::make_error("InvalidParameter", param + ": " + field + " must be a string");
  const std::string_view name = v->as_string();
  OPENDBS_TRY(check_no_nul(param + ": " + field, name));
  if (name.size() > kMaxNewNameBytes)
    return core::make_error("InvalidParameter", param + ": " + field + " \"" + std::string(name) + "\" is " +
                                                    std::to_string(name.size()) + " bytes long; a new name is at most " +
                                                    std::to_string(kMaxNewNameBytes) +
                                                    " bytes (PostgreSQL would clip a longer one)");
  return {};
}

// The schema a TableName names ("sales" of "sales.orders"), "" when it names none.
std::string_view schema_written(std::string_view table) {
  const size_t dot = table.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : table.substr(0, dot);
}

// A renamed table keeps its schema, so NewTableName is a bare name; and two tables of one database
// renamed onto one name would collide only after all their rows were loaded. Two tables written
// schema-qualified in different schemas may share a new name (the engine checks the rest against the set).
core::Status check_table_renames(const std::string& param, std::string_view db, const boost::json::array& tables) {
  std::vector<std::pair<std::string_view, std::string_view>> seen;  // (TableName, NewTableName)
  for (const auto& t : tables) {
    if (!t.is_object()) continue;
    const auto* from = t.as_object().if_contains("TableName");
    const auto* to = t.as_object().if_contains("NewTableName");
    if (from && from->is_string()) OPENDBS_TRY(check_no_nul(param + ": TableName", from->as_string()));
    OPENDBS_TRY(check_new_name(param, "NewTableName", to));
    if (!from || !from->is_string() || !to || to->as_string().empty()) continue;  // the engine explains these
    const std::string_view old_name = from->as_string(), new_name = to->as_string();
    OPENDBS_TRY(engines::check_new_table_name(param, old_name, new_name));
    for (const auto& [other, other_new] : seen) {
      const bool distinct_schemas = !schema_written(old_name).empty() && !schema_written(other).empty() &&
                                    schema_written(old_name) != schema_written(other);
      if (other_new == new_name && !distinct_schemas)
        return core::make_error("InvalidParameter",
                                param + ": tables " + std::string(other) + " and " + std::string(old_name) +
                                    " of database " + std::string(db) + " are both renamed to " + std::string(new_name) +
                                    "; give each its own NewTableName (tables of different schemas may share one "
                                    "when both are written as schema.table)");
    }
    seen.emplace_back(old_name, new_name);
  }
  return {};
}

}  // namespace

core::Status check_restore_objects(const std::string& name, const std::string& value) {
  OPENDBS_ASSIGN(auto list, parse_object_list(name, value));
  std::vector<std::string_view> databases;
  for (const auto& item : list) {
    const auto& entry = item.as_object();
    const std::string_view db = entry.at("DBName").as_string();
    OPENDBS_TRY(check_no_nul(name + ": DBName", db));
    if (std::find(databases.begin(), databases.end(), db) != databases.end())
      return core::make_error("InvalidParameter", name + " names database " + std::string(db) +
                                                      " twice; give one entry per database, with all its renames");
    databases.push_back(db);
    OPENDBS_TRY(check_new_name(name, "NewDBName", entry.if_contains("NewDBName")));
    const auto* tables = entry.if_contains("TableIncludes");
    if (tables == nullptr || !tables->is_array()) continue;  // the engine explains a malformed list
    OPENDBS_TRY(check_table_renames(name, db, tables->as_array()));
  }
  return {};
}

core::Status check_storage_periods(int64_t retention, int64_t ia, int64_t archive) {
  if (retention < 0 || retention > 1825)
    return core::errors::invalid_parameter("BackupRetentionPeriod", std::to_string(retention), "0 to 1825 days");
  if (ia >= archive)
    return core::errors::invalid_parameter("DuplicationInfrequentAccessPeriod", std::to_string(ia),
                                           "fewer days than DuplicationArchivePeriod (" + std::to_string(archive) + ")");
  if (archive >= retention)
    return core::errors::invalid_parameter("DuplicationArchivePeriod", std::to_string(archive),
                                           "fewer days than BackupRetentionPeriod (" + std::to_string(retention) + ")");
  return {};
}

}  // namespace opendbs::api::ops
