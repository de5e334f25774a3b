#include "cli/task_wait.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/node_client.h"
#include "core/clock.h"

namespace opendbs::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void on_sigint(int) { g_interrupted = 1; }

// Catches SIGINT while it lives, restoring the previous handler after.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~InterruptGuard() { sigaction(SIGINT, &previous_, nullptr); }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_ {};
};

// Sleeps `ms` in short slices; false when Ctrl-C came.
bool pause_unless_interrupted(int64_t ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (g_interrupted) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !g_interrupted;
}

}  // namespace

int wait_for_task(const WaitOptions& o, const std::function<core::Result<TaskPoll>()>& poll) {
  InterruptGuard guard;
  const auto& clock = core::SystemClock::instance();
  const int64_t started = clock.now_ms();
  int64_t last_contact = started;
  ProgressDisplay display(o.label, std::cerr, isatty(STDERR_FILENO) == 1);
  for (;;) {
    auto state = poll();
    const int64_t now = clock.now_ms();
    if (!state.ok()) {
      if (state.error().code != "ServiceUnavailable" || now - last_contact > 30000) {
        display.finish(o.label + ": cannot follow the task any more");
        return report_error(o.command, state.error());
      }
    } else {
      last_contact = now;
      if (state->ended) {
        display.finish(state->summary);
        return state->succeeded ? exit_code::ok : exit_code::task_failed;
      }
      display.update(state->sample, now);
    }
    if (o.timeout_ms > 0 && now - started >= o.timeout_ms) {
      display.finish(o.label + ": still running after the --wait-timeout; stopped waiting. " + o.resume_hint);
      return exit_code::wait_timeout;
    }
    if (!pause_unless_interrupted(o.poll_ms)) {
      display.finish(o.label + ": stopped waiting (the task goes on). " + o.resume_hint);
      return exit_code::interrupted;
    }
  }
}

}  // namespace opendbs::cli
