#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json/serialize.hpp>

#include "core/clock.h"

namespace opendbs::core {
namespace {

std::atomic<LogLevel> g_minimum{LogLevel::info};

spdlog::logger& logger() {
  static auto instance = [] {
    auto l = spdlog::stderr_logger_mt("opendbs");
    l->set_pattern("%v");
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *instance;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

}  // namespace

void set_log_level(LogLevel minimum) { g_minimum.store(minimum); }

void log_event(LogLevel level, std::string_view event, boost::json::object fields) {
  if (level < g_minimum.load()) return;
  boost::json::object line;
  line["ts"] = format_iso8601(SystemClock::instance().now_ms());
  line["level"] = level_name(level);
  line["event"] = event;
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  logger().info(boost::json::serialize(line));
}

}  // namespace opendbs::core
