// Download tasks (CreateFullBackupSetDownload, CreateIncrementBackupSetDownload): the plan's engine
// converts the set into one file under DATA_DIR/downloads/, written durably (write, fsync, rename,
// fsync of the directory), and the download record gets its size, finish time and signed links.
// Files live `lifetime_ms` after they finish; then expire_downloads() deletes them and clears the links.
#pragma once

#include <cstdint>
#include <string>

#include "jobs/download_links.h"
#include "jobs/task_runners.h"

namespace opendbs::jobs {

inline constexpr int64_t kDownloadLifetimeMsDefault = 24LL * 3600 * 1000;

struct DownloadSettings {
  const DownloadLinks* links = nullptr;
  std::string internet_base, intranet_base;  // "https://host:port", "http://host:port": where links point
  int64_t lifetime_ms = kDownloadLifetimeMsDefault;
  std::string node_id;                       // recorded, so that only this node cleans its files
};

TaskResult run_download(TaskEnv& env, const catalog::Record& task, LocalTask& control);

// ReleaseBackupPlan: the plan's finished downloads lose their links at once (`_ExpiresMs` = now, the
// URLs cleared, ErrMessage naming the request), so expire_downloads deletes their files — at once on
// this node (Runtime::downloads_revoked), at its next scheduler pass on another node that holds one.
core::Status revoke_downloads(catalog::Tx& tx, const std::string& plan_id, const std::string& by_request_id,
                              int64_t now_ms);

// Deletes this node's download files whose links have expired (or whose record is gone) and clears
// the expired records' links. Called from the scheduler's loop on every node.
core::Status expire_downloads(catalog::Store& store, const DownloadSettings& settings, int64_t now_ms);

}  // namespace opendbs::jobs
