// What each kind of task does, as a short list of named steps. The runtime leases the task, calls the
// runner, and records the outcome; runners record what the API shows (sets, log files, prechecks).
#pragma once

#include <string>

#include "catalog/store.h"
#include "core/clock.h"
#include "engines/engine.h"
#include "iam/secret_box.h"
#include "jobs/local_task.h"
#include "repo/repository.h"

namespace opendbs::jobs {

struct DownloadSettings;  // download_runner.h

struct TaskEnv {
  catalog::Store& store;
  iam::SecretBox& secrets;
  repo::Repository& repository;
  const engines::EngineRegistry& engines;
  const core::Clock& clock;
  const DownloadSettings* downloads = nullptr;  // nullptr: this node produces no downloads
  engines::RestoreRequest::LogFetch log_fetch = {};  // RuntimeOptions::log_fetch
  std::string restore_root = {};                     // RuntimeOptions::restore_root
};

enum class Outcome { succeeded, failed, cancelled, requeue };

struct TaskResult {
  Outcome outcome = Outcome::succeeded;
  std::string err_code, err_message;
};

TaskResult run_precheck(TaskEnv& env, const catalog::Record& task, LocalTask& control);
TaskResult run_full_backup(TaskEnv& env, const catalog::Record& task, LocalTask& control);
TaskResult run_log_backup(TaskEnv& env, const catalog::Record& task, LocalTask& control);
TaskResult run_restore(TaskEnv& env, const catalog::Record& task, LocalTask& control);
// run_release_log: slot_release.h

}  // namespace opendbs::jobs
