#include "cli/progress.h"

#include <algorithm>
#include <cmath>

#include "cli/human_format.h"

namespace opendbs::cli {
namespace {

constexpr int64_t kWindowMs = 10000;
constexpr int64_t kQuietLineMs = 10000;

}  // namespace

void ProgressMeter::add(const ProgressSample& sample, int64_t now_ms) {
  if (first_ms_ < 0) first_ms_ = now_ms;
  last_ms_ = now_ms;
  window_.push_back({now_ms, sample.percent, sample.bytes});
  while (window_.size() > 2 && now_ms - window_.front().ms > kWindowMs) window_.pop_front();
}

std::optional<double> ProgressMeter::bytes_per_second() const {
  if (window_.size() < 2 || !window_.front().bytes || !window_.back().bytes) return std::nullopt;
  const double seconds = static_cast<double>(window_.back().ms - window_.front().ms) / 1000.0;
  if (seconds <= 0 || *window_.back().bytes < *window_.front().bytes) return std::nullopt;
  return static_cast<double>(*window_.back().bytes - *window_.front().bytes) / seconds;
}

std::optional<int64_t> ProgressMeter::eta_ms() const {
  if (window_.size() < 2) return std::nullopt;
  const auto& first = window_.front();
  const auto& last = window_.back();
  if (last.percent >= 100) return 0;
  const auto speed = bytes_per_second();
  if (speed && *speed > 0 && last.bytes && last.percent > 0) {
    const double total = static_cast<double>(*last.bytes) * 100.0 / last.percent;
    return static_cast<int64_t>((total - static_cast<double>(*last.bytes)) / *speed * 1000.0);
  }
  const int gained = last.percent - first.percent;
  if (gained <= 0 || last.ms <= first.ms) return std::nullopt;
  return static_cast<int64_t>(static_cast<double>(100 - last.percent) * static_cast<double>(last.ms - first.ms) / gained);
}

std::string progress_line(const std::string& label, const ProgressSample& sample, const ProgressMeter& meter,
                          int bar_width) {
  const int percent = std::clamp(sample.percent, 0, 100);
  std::string line = label;
  if (!sample.state.empty() && sample.state != "running") line += " (" + sample.state + ")";
  if (bar_width > 0) {
    const int filled = percent * bar_width / 100;
    line += "  [" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(bar_width - filled), '-') + "]";
  }
  line += "  " + std::to_string(percent) + "%";
  if (sample.bytes) line += "  " + bytes(*sample.bytes);
  if (auto speed = meter.bytes_per_second()) line += "  " + bytes(static_cast<uint64_t>(std::llround(*speed))) + "/s";
  if (auto eta = meter.eta_ms(); eta && percent < 100) line += "  ETA " + duration(*eta + 999);
  line += "  elapsed " + duration(meter.elapsed_ms());
  return line;
}

ProgressDisplay::ProgressDisplay(std::string label, std::ostream& out, bool terminal, int64_t line_interval_ms)
    : label_(std::move(label)), out_(out), terminal_(terminal), line_interval_ms_(line_interval_ms) {}

void ProgressDisplay::update(const ProgressSample& sample, int64_t now_ms) {
  meter_.add(sample, now_ms);
  if (terminal_) {
    // \r returns to the start of the line, ESC[K clears what a longer previous line left behind.
    out_ << "\r" << progress_line(label_, sample, meter_, 24) << "\x1b[K" << std::flush;
    drawn_ = true;
    return;
  }
  // Plain lines compare without the elapsed time, which changes every poll.
  std::string line = progress_line(label_, sample, meter_, 0);
  const std::string key = label_ + sample.state + std::to_string(sample.percent) + (sample.bytes ? std::to_string(*sample.bytes) : "");
  const bool changed = key != last_key_;
  const int64_t since = last_print_ms_ < 0 ? INT64_MAX : now_ms - last_print_ms_;
  if ((changed && since >= line_interval_ms_) || since >= kQuietLineMs) {
    out_ << line << "\n" << std::flush;
    last_key_ = key;
    last_print_ms_ = now_ms;
  }
}

void ProgressDisplay::finish(const std::string& message) {
  if (terminal_ && drawn_) out_ << "\r\x1b[K";
  out_ << message << "\n" << std::flush;
}

}  // namespace opendbs::cli
