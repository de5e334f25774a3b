// The release_log task: frees what a plan's log backup keeps on a source (PostgreSQL: the plan's
// replication slot, which retains WAL until the source's disk fills) after DisableBackupLog,
// ReleaseBackupPlan, or ModifyBackupSourceEndpoint (for the source the plan leaves).
//
// A source that cannot be reached does not end the task: it tries again with a growing pause
// (ReleaseBackoff) until the release succeeds, for as long as it takes, also after the plan is gone.
// The task stays "running" under its lease meanwhile, so a node that stops hands it back to the queue
// and a node that dies loses it to the next one when the lease expires: the retry survives restarts.
// Every failed attempt is visible: a warn log line "log_release_failed", the task record
// (ErrMessage, ReleaseAttempts, NextAttemptTime, ReleaseSource), SlotWatch (pending_releases(), one
// log_backup.release_pending webhook per release) and, while the plan exists, a warning in the plan's
// ErrMessage.
#pragma once

#include <cstdint>

#include "jobs/task_runners.h"

namespace opendbs::jobs {

struct ReleaseBackoff {
  int64_t first_ms = 1000;
  int64_t max_ms = 60000;
};

// The plan doc field under which a release task keeps its warning in ErrMessage (plan_warning.h).
std::string release_warning_field(const std::string& task_id);

TaskResult run_release_log(TaskEnv& env, const catalog::Record& task, LocalTask& control,
                           const ReleaseBackoff& backoff = {});

}  // namespace opendbs::jobs
