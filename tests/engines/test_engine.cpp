#include "test_engine.h"

#include <chrono>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/clock.h"
#include "core/errors.h"

namespace opendbs::testing {
namespace {

constexpr uint64_t kBlock = 64 * 1024;

core::Error cancelled() { return core::make_error("Cancelled", "cancelled"); }

bool unreachable(const engines::PlanSpec& plan) { return plan.source.host == "unreachable.invalid"; }

// Sleeps in slices of at most 50 ms so that a cancellation is seen promptly.
bool sleep_unless_cancelled(engines::TaskControl& control, int64_t ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (control.cancelled()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(50, ms)));
  }
  return !control.cancelled();
}

}  // namespace

TestEngineConfig TestEngineConfig::parse(const std::string& text) {
  TestEngineConfig c;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ';');) {
    auto eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = item.substr(0, eq);
    const uint64_t value = std::stoull(item.substr(eq + 1));
    if (key == "size") c.size = value;
    if (key == "rate") c.rate = std::max<uint64_t>(value, 1);
    if (key == "log_ms") c.log_ms = static_cast<int64_t>(value);
    if (key == "warn") c.warn = value != 0;
    if (key == "deaf") c.deaf = value != 0;
  }
  return c;
}

char generated_byte(const std::string& seed, uint64_t offset) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : seed) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  uint64_t x = h ^ (offset / 8) * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<char>((x >> ((offset % 8) * 8)) & 0xff);
}

std::vector<engines::PrecheckItem> TestEngine::precheck(const engines::PlanSpec& plan) {
  if (unreachable(plan))
    return {{"CHECK_CONNECTION", "failed", "cannot connect to unreachable.invalid: check SourceEndpointIP and the firewall"}};
  return {{"CHECK_CONNECTION", "finish", ""}, {"CHECK_PRIVILEGES", "finish", ""}};
}

core::Result<engines::FullBackupResult> TestEngine::full_backup(const engines::PlanSpec& plan, repo::SetWriter& set,
                                                                engines::TaskControl& control) {
  if (unreachable(plan)) return core::make_error("SourceUnreachable", "cannot connect to unreachable.invalid");
  const auto config = TestEngineConfig::parse(plan.source.database);
  OPENDBS_ASSIGN(auto stream, set.add_stream("data", repo::FileMeta{config.size, 0644, 0}));
  const auto started = std::chrono::steady_clock::now();
  std::string block;
  for (uint64_t offset = 0; offset < config.size; offset += block.size()) {
    if (control.cancelled() && !config.deaf) return cancelled();
    block.resize(std::min(kBlock, config.size - offset));
    for (uint64_t i = 0; i < block.size(); ++i) block[i] = generated_byte(plan.plan_id, offset + i);
    OPENDBS_TRY(stream->write(block));
    control.progress(static_cast<int>(100 * (offset + block.size()) / config.size), offset + block.size());
    // Pace to `rate` bytes per second.
    const auto due = started + std::chrono::microseconds((offset + block.size()) * 1000000 / config.rate);
    while (std::chrono::steady_clock::now() < due && (config.deaf || !control.cancelled()))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  OPENDBS_TRY(stream->close());
  if (config.warn) control.warning("the test engine warns as its plan asks (warn=1)");
  engines::FullBackupResult result;
  result.consistent_ms = core::SystemClock::instance().now_ms();
  result.metadata = {{"engine", "test"}, {"size", config.size}, {"seed", plan.plan_id}};
  result.log_start_seq = 0;
  return result;
}

core::Status TestEngine::log_backup(const engines::PlanSpec& plan, repo::Repository&, engines::TaskControl& control,
                                    const std::function<core::Status(const engines::LogFile&)>& on_file) {
  if (unreachable(plan)) return core::make_error("SourceUnreachable", "cannot connect to unreachable.invalid");
  const auto config = TestEngineConfig::parse(plan.source.database);
  for (int64_t seq = plan.log_resume_seq;; ++seq) {
    const int64_t start = core::SystemClock::instance().now_ms();
    char name[32];
    std::snprintf(name, sizeof name, "test-log.%06lld", static_cast<long long>(seq));
    OPENDBS_TRY(on_file({name, seq, start, start, 0, "FILLING"}));
    if (!sleep_unless_cancelled(control, config.log_ms)) return cancelled();
    OPENDBS_TRY(on_file({name, seq, start, core::SystemClock::instance().now_ms(), 1024, "COMPLETED"}));
  }
}

core::Status TestEngine::restore(const engines::PlanSpec& plan, repo::Repository& repository,
                                 const engines::RestoreRequest& request, engines::TaskControl& control) {
  if (request.target_dir.empty()) return core::make_error("InvalidParameter", "the test engine restores into RestoreDir only");
  std::filesystem::create_directories(request.target_dir);
  std::ofstream out(request.target_dir + "/data", std::ios::binary | std::ios::trunc);
  uint64_t offset = 0;
  OPENDBS_TRY(repository.read_stream(request.set_id, "data", [&](std::string_view bytes) -> core::Status {
    if (control.cancelled()) return cancelled();
    for (size_t i = 0; i < bytes.size(); ++i)
      if (bytes[i] != generated_byte(plan.plan_id, offset + i))
        return core::errors::corrupt("restored byte " + std::to_string(offset + i) + " differs from the source");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    offset += bytes.size();
    return {};
  }));
  out.close();
  if (!out) return core::errors::io("cannot write " + request.target_dir + "/data");
  return {};
}

}  // namespace opendbs::testing
