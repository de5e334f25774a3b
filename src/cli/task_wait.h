// `--wait`: polls a task until it ends, showing its progress on stderr, and turns the outcome into an
// exit code. Ctrl-C stops the waiting, never the task.
#pragma once

#include <functional>
#include <string>

#include "cli/progress.h"
#include "core/result.h"

namespace opendbs::cli {

struct TaskPoll {
  ProgressSample sample;
  bool ended = false;
  bool succeeded = false;
  std::string summary;  // the final line: what finished, or why it failed
};

struct WaitOptions {
  std::string command;      // for error messages, e.g. "plan start"
  std::string label;        // shown before the progress, e.g. "backup 1x2y"
  std::string resume_hint;  // printed when Ctrl-C or the timeout stops the waiting
  int64_t timeout_ms = 0;   // 0 = wait as long as it takes
  int64_t poll_ms = 500;
};

// Returns exit_code::ok, task_failed, wait_timeout, interrupted, or the exit code of a poll error.
// A node that cannot be reached is retried for up to 30 s (it may be restarting).
int wait_for_task(const WaitOptions& options, const std::function<core::Result<TaskPoll>()>& poll);

}  // namespace opendbs::cli
