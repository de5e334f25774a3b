// Time as the node sees it. Everything that schedules, expires or stamps goes through a Clock so that
// tests can move time by hand.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace opendbs::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;  // milliseconds since the Unix epoch, UTC
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override;
  static const SystemClock& instance();
};

// A clock that stands still until a test moves it. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  void set_ms(int64_t ms) { now_.store(ms); }
  void advance_ms(int64_t delta) { now_.fetch_add(delta); }

 private:
  std::atomic<int64_t> now_;
};

// "2024-01-15T08:30:00Z" (seconds precision, UTC), the format of Timestamp and x-acs-date.
std::string format_iso8601(int64_t epoch_ms);
// Parses "YYYY-MM-DDThh:mm:ssZ" (optionally with fractional seconds); nullopt when malformed.
std::optional<int64_t> parse_iso8601(std::string_view text);

}  // namespace opendbs::core
