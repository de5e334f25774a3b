#include "engines/postgres/backup_objects.h"

#include <fnmatch.h>

#include <algorithm>

#include <boost/json.hpp>

#include "core/errors.h"

namespace opendbs::engines::postgres {
namespace {

bool matches(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

bool table_matches(const std::vector<std::string>& patterns, const BackupObjects::Lineage& lineage) {
  for (const auto& [schema, table] : lineage)
    for (const auto& p : patterns)
      if (matches(p, table) || matches(p, schema + "." + table)) return true;
  return false;
}

core::Result<std::vector<std::string>> names(const boost::json::object& entry, const char* field) {
  std::vector<std::string> out;
  auto it = entry.find(field);
  if (it == entry.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return core::errors::invalid_parameter("BackupObjects", field, "an array");
  for (const auto& item : it->value().as_array()) {
    if (!item.is_object() || !item.as_object().contains("TableName") ||
        !item.as_object().at("TableName").is_string())
      return core::errors::invalid_parameter("BackupObjects", field, "[{\"TableName\":\"...\"}]");
    out.emplace_back(item.as_object().at("TableName").as_string());
  }
  return out;
}

}  // namespace

core::Result<BackupObjects> BackupObjects::parse(const std::string& json) {
  BackupObjects out;
  if (json.empty()) return out;
  boost::system::error_code ec;
  auto doc = boost::json::parse(json, ec);
  if (ec || !doc.is_array())
    return core::errors::invalid_parameter("BackupObjects", json, "a JSON array of {\"DBName\": ...}");
  for (const auto& v : doc.as_array()) {
    if (!v.is_object() || !v.as_object().contains("DBName") || !v.as_object().at("DBName").is_string())
      return core::errors::invalid_parameter("BackupObjects", json, "entries with a DBName");
    Entry e;
    e.db = std::string(v.as_object().at("DBName").as_string());
    OPENDBS_ASSIGN(e.includes, names(v.as_object(), "TableIncludes"));
    OPENDBS_ASSIGN(e.excludes, names(v.as_object(), "TableExcludes"));
    out.entries_.push_back(std::move(e));
  }
  return out;
}

bool BackupObjects::selects_database(const std::string& db) const {
  if (entries_.empty()) return true;
  for (const auto& e : entries_)
    if (matches(e.db, db)) return true;
  return false;
}

bool BackupObjects::selects_table(const std::string& db, const std::string& schema, const std::string& table) const {
  return selects_table(db, Lineage{{schema, table}});
}

bool BackupObjects::selects_table(const std::string& db, const Lineage& lineage) const {
  if (entries_.empty()) return true;
  for (const auto& e : entries_) {
    if (!matches(e.db, db)) continue;
    const bool included = e.includes.empty() || table_matches(e.includes, lineage);
    if (included && !table_matches(e.excludes, lineage)) return true;
  }
  return false;
}

std::vector<bool> BackupObjects::kept_tables(const std::string& db, const std::vector<Table>& tables) const {
  std::vector<bool> kept(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    Lineage lineage;
    for (std::optional<size_t> j = i; j && lineage.size() <= tables.size(); j = tables[*j].parent)
      lineage.emplace_back(tables[*j].schema, tables[*j].name);
    if (!selects_table(db, lineage)) continue;
    kept[i] = true;
    for (auto j = tables[i].parent; j && !kept[*j]; j = tables[*j].parent) kept[*j] = true;
  }
  return kept;
}

std::string joined_patterns(const std::vector<std::string>& patterns) {
  std::string out;
  for (const auto& p : patterns) out += (out.empty() ? "" : ", ") + p;
  return out;
}

std::vector<std::string> BackupObjects::unmatched_includes(const std::string& db,
                                                          const std::vector<Table>& tables) const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (!matches(e.db, db)) continue;
    for (const auto& p : e.includes) {
      const bool found = std::any_of(tables.begin(), tables.end(), [&](const Table& t) {
        return table_matches({p}, Lineage{{t.schema, t.name}});
      });
      if (!found && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

}  // namespace opendbs::engines::postgres
