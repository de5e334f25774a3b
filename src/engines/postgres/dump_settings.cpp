#include "engines/postgres/dump_settings.h"

#include <optional>
#include <string_view>

#include "engines/postgres/script_lines.h"

namespace opendbs::engines::postgres {
namespace {

// A line of the script's head: blank, a comment, a psql meta-command (\restrict), or a setting.
bool in_head(std::string_view line) {
  return line.empty() || line.starts_with("--") || line.starts_with("\\") || line.starts_with("SET ") ||
         line.starts_with("SELECT pg_catalog.set_config(");
}

struct Setting {
  std::string name;
  std::string value;  // as a SQL literal
};

// `SET name = value;` as pg_dump writes its head: a parameter name and one value, a bare word or a
// quoted literal. nullopt for any other line.
std::optional<Setting> setting_of(std::string_view line) {
  if (!line.starts_with("SET ") || !line.ends_with(";")) return std::nullopt;
  const auto eq = line.find(" = ");
  if (eq == std::string_view::npos) return std::nullopt;
  const std::string_view name = line.substr(4, eq - 4), value = line.substr(eq + 3, line.size() - eq - 4);
  if (name.empty() || value.empty()) return std::nullopt;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return std::nullopt;
  if (value.front() == '\'') {
    if (value.size() < 2 || value.back() != '\'') return std::nullopt;
    return Setting{std::string(name), std::string(value)};
  }
  for (char c : value)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
      return std::nullopt;
  return Setting{std::string(name), quote_literal(value)};
}

// `script` with each SET of its head that names a parameter outside `known` replaced by
// `replacement(setting)`, or dropped where that gives nullopt.
template <class Replacement>
std::string rewrite_unknown_settings(const std::string& script, const std::set<std::string>& known,
                                     Replacement replacement) {
  return rewrite_lines(
      script,
      [&](std::string_view line) {
        const auto setting = setting_of(line);
        return setting && !known.count(setting->name) ? replacement(*setting) : std::optional<std::string>(line);
      },
      [](std::string_view line) { return !in_head(line); });
}

}  // namespace

SettingsFit without_unknown_settings(const std::string& script, const std::set<std::string>& known) {
  SettingsFit fit;
  fit.script = rewrite_unknown_settings(script, known, [&](const Setting& s) {
    fit.dropped.push_back(s.name);
    return std::optional<std::string>();
  });
  return fit;
}

std::string unknown_settings_guarded(const std::string& script, const std::set<std::string>& known) {
  return rewrite_unknown_settings(script, known, [](const Setting& s) -> std::optional<std::string> {
    const std::string name = quote_literal(s.name);
    return "SELECT pg_catalog.set_config(" + name + ", " + s.value + ", false) FROM pg_catalog.pg_settings WHERE name = " +
           name + ";";
  });
}

core::Result<std::set<std::string>> server_settings(PgConnection& conn) {
  return query_names(conn, "SELECT name FROM pg_catalog.pg_settings");
}

}  // namespace opendbs::engines::postgres
