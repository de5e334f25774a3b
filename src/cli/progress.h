// Progress of a long task while `--wait` polls it: a bar redrawn in place (\r) on a terminal, plain
// periodic lines otherwise (logs, CI, pipes). Speed and ETA come from the samples seen so far.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <ostream>
#include <string>

namespace opendbs::cli {

struct ProgressSample {
  int percent = 0;                // 0-100
  std::optional<uint64_t> bytes;  // logical bytes done, when the node reports them
  std::string state;              // the task's status word, e.g. "init", "running"
};

// Speed and remaining time over a sliding window of samples.
class ProgressMeter {
 public:
  void add(const ProgressSample& sample, int64_t now_ms);
  std::optional<double> bytes_per_second() const;
  // From the byte rate when the total is known (bytes / percent), else from the percent rate.
  std::optional<int64_t> eta_ms() const;
  int64_t elapsed_ms() const { return first_ms_ < 0 ? 0 : last_ms_ - first_ms_; }

 private:
  struct Point {
    int64_t ms;
    int percent;
    std::optional<uint64_t> bytes;
  };
  std::deque<Point> window_;
  int64_t first_ms_ = -1, last_ms_ = 0;
};

// "backup 2PX…  [########------------]  40%  120 MiB  35 MiB/s  ETA 4s" (bar only when bar_width > 0;
// fields the node did not report are left out).
std::string progress_line(const std::string& label, const ProgressSample& sample, const ProgressMeter& meter,
                          int bar_width);

class ProgressDisplay {
 public:
  // `terminal`: redraw one line in place; otherwise print a line when something changed, at most every
  // `line_interval_ms`, and at least every 10 s.
  ProgressDisplay(std::string label, std::ostream& out, bool terminal, int64_t line_interval_ms = 1000);
  void update(const ProgressSample& sample, int64_t now_ms);
  // Ends the display with a final line (replacing the bar on a terminal).
  void finish(const std::string& message);

 private:
  std::string label_;
  std::ostream& out_;
  bool terminal_;
  int64_t line_interval_ms_;
  ProgressMeter meter_;
  std::string last_key_;  // what the last plain line showed, without the elapsed time
  int64_t last_print_ms_ = -1;
  bool drawn_ = false;
};

}  // namespace opendbs::cli
