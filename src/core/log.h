// Structured logging: one JSON object per line on stderr, so that logs are machine-readable and
// a request or task transition is exactly one line. Secrets are never passed here.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace opendbs::core {

enum class LogLevel { debug, info, warn, error };

// Emits {"ts":..., "level":..., "event":event, ...fields}. Thread-safe.
void log_event(LogLevel level, std::string_view event, boost::json::object fields = {});
void set_log_level(LogLevel minimum);

}  // namespace opendbs::core
