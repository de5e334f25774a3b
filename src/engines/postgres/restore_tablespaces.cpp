#include "engines/postgres/restore_tablespaces.h"

#include <optional>
#include <string_view>

#include "engines/postgres/script_lines.h"

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

// `script` with each line that sets a named tablespace replaced by `replacement(name, line)`.
template <class Replacement>
std::string rewrite_tablespace_sets(const std::string& script, Replacement replacement) {
  return rewrite_lines(script, [&](std::string_view line) -> std::optional<std::string> {
    const auto name = tablespace_set_by(line);
    return name ? replacement(*name, line) : std::string(line);
  });
}

}  // namespace

TablespaceFit fit_tablespaces(const std::string& script, const std::set<std::string>& existing) {
  TablespaceFit fit;
  fit.script = rewrite_tablespace_sets(script, [&](const std::string& name, std::string_view line) {
    if (existing.count(name)) return std::string(line);
    fit.missing.insert(name);
    return std::string(kSet) + "'';";
  });
  return fit;
}

std::string tablespaces_chosen_at_load(const std::string& script) {
  return rewrite_tablespace_sets(script, [](const std::string& name, std::string_view) {
    const std::string literal = quote_literal(name);
    return "SELECT pg_catalog.set_config('default_tablespace', CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_tablespace"
           " WHERE spcname = " + literal + ") THEN " + literal + " ELSE '' END, false);";
  });
}

core::Result<std::set<std::string>> server_tablespaces(PgConnection& conn) {
  return query_names(conn, "SELECT spcname FROM pg_catalog.pg_tablespace");
}

}  // namespace opendbs::engines::postgres
