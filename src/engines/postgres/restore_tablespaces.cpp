#include "engines/postgres/restore_tablespaces.h"

#include <optional>
#include <string_view>

namespace opendbs::engines::postgres {
namespace {

constexpr std::string_view kSet = "SET default_tablespace = ";

// The tablespace a whole line `SET default_tablespace = X;` names, as pg_dump writes X (fmtId: a
// plain lower-case name, or one in double quotes with " doubled); nullopt for `''` (the default) and
// for any other line.
std::optional<std::string> tablespace_set_by(std::string_view line) {
  if (!line.starts_with(kSet) || !line.ends_with(";")) return std::nullopt;
  const std::string_view value = line.substr(kSet.size(), line.size() - kSet.size() - 1);
  if (value.empty() || value == "''") return std::nullopt;
  std::string name;
  if (value.front() == '"') {
    if (value.size() < 2 || value.back() != '"') return std::nullopt;
    for (size_t i = 1; i + 1 < value.size(); ++i) {
      if (value[i] == '"' && (i + 2 >= value.size() || value[++i] != '"')) return std::nullopt;
      name += value[i];
    }
    return name;
  }
  for (char c : value)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) return std::nullopt;
  return std::string(value);
}

}  // namespace

TablespaceFit fit_tablespaces(const std::string& script, const std::set<std::string>& existing) {
  TablespaceFit fit;
  fit.script.reserve(script.size());
  size_t at = 0;
  while (at < script.size()) {
    size_t end = script.find('\n', at);
    end = end == std::string::npos ? script.size() : end;
    const std::string_view line(script.data() + at, end - at);
    const auto name = tablespace_set_by(line);
    if (name && !existing.count(*name)) {
      fit.missing.insert(*name);
      fit.script.append(kSet).append("'';");
    } else {
      fit.script.append(line);
    }
    if (end < script.size()) fit.script += '\n';
    at = end + 1;
  }
  return fit;
}

core::Result<std::set<std::string>> server_tablespaces(PgConnection& conn) {
  OPENDBS_ASSIGN(auto rows, conn.query("SELECT spcname FROM pg_catalog.pg_tablespace"));
  std::set<std::string> names;
  for (const auto& row : rows.rows)
    if (row[0]) names.insert(*row[0]);
  return names;
}

}  // namespace opendbs::engines::postgres
