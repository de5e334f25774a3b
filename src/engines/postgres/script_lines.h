// Line-by-line rewrites of pg_dump scripts (tablespaces, settings, psql meta-commands).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace opendbs::engines::postgres {

// `script` with each line (without its '\n') replaced by `rewrite(line)`, or dropped with its '\n'
// where that gives nullopt. From the first line for which `stop(line)` holds, the rest is kept as it is.
template <class Rewrite, class Stop>
std::string rewrite_lines(const std::string& script, Rewrite rewrite, Stop stop) {
  std::string out;
  out.reserve(script.size());
  size_t at = 0;
  while (at < script.size()) {
    size_t end = script.find('\n', at);
    end = end == std::string::npos ? script.size() : end;
    const std::string_view line(script.data() + at, end - at);
    if (stop(line)) break;
    const std::optional<std::string> kept = rewrite(line);
    if (kept) out += *kept + (end < script.size() ? "\n" : "");
    at = end + 1;
  }
  if (at < script.size()) out.append(script, at, std::string::npos);
  return out;
}

template <class Rewrite>
std::string rewrite_lines(const std::string& script, Rewrite rewrite) {
  return rewrite_lines(script, rewrite, [](std::string_view) { return false; });
}

}  // namespace opendbs::engines::postgres
