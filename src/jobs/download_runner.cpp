#include "jobs/download_runner.h"

#include <boost/json.hpp>

#include <filesystem>

#include "core/errors.h"
#include "core/file.h"
#include "core/log.h"
#include "jobs/runner_steps.h"

namespace opendbs::jobs {
namespace {

namespace fs = std::filesystem;
using catalog::Kind;
using catalog::Record;

// Ends the download record as DBS shows a download that did not finish: status "stop" and why.
void stop_record(TaskEnv& env, const std::string& id, const std::string& message) {
  (void)update(env, Kind::download_task, id, [&](Record& r) {
    r.state = "stop";
    r.doc["BackupSetDownloadStatus"] = "stop";
    r.doc["ErrMessage"] = message;
    r.doc["BackupSetDownloadFinishTime"] = env.clock.now_ms();
  });
}

void remove_quietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// Moves the finished file to its published name and makes the rename durable.
core::Status publish(const std::string& partial, const std::string& final_path, const std::string& dir) {
  std::error_code ec;
  fs::rename(partial, final_path, ec);
  if (ec) return core::errors::io("cannot publish download " + final_path + ": " + ec.message());
  return core::sync_dir(dir);
}

}  // namespace

TaskResult run_download(TaskEnv& env, const Record& task, LocalTask& control) {
  const std::string id = task.id;
  if (!env.downloads || !env.downloads->links) {
    const auto e = core::make_error("EngineUnavailable", "this node does not produce downloads");
    stop_record(env, id, e.message);
    return failed(e);
  }
  const DownloadSettings& settings = *env.downloads;
  const auto& payload = task.doc.at("Payload").as_object();
  (void)update(env, Kind::download_task, id, [](Record& r) {
    r.state = "running";
    r.doc["BackupSetDownloadStatus"] = "running";
  });
  auto plan = load(env, Kind::plan, task.parent_id);
  auto spec = plan.ok() ? plan_spec(env, *plan) : core::Result<engines::PlanSpec>(plan.error());
  auto engine = spec.ok() ? engine_for(env, *spec) : core::Result<std::shared_ptr<engines::Engine>>(spec.error());
  if (!engine.ok()) {
    stop_record(env, id, engine.error().message);
    return failed(engine.error());
  }
  engines::DownloadRequest request;
  request.set_id = text(payload, "_RepoSetId");
  request.format = text(payload, "Format");
  request.log_file = text(payload, "JobType") == "cbs_backup_sub_cont";
  request.out_path = settings.links->dir() + "/" + id + ".partial";
  if (auto st = core::make_dirs(settings.links->dir(), 0700); !st.ok()) {
    stop_record(env, id, st.error().message);
    return failed(st.error());
  }
  auto result = (*engine)->download(*spec, env.repository, request, control);
  if (control.cancelled()) {
    remove_quietly(request.out_path);
    if (control.is_handed_back()) {
      (void)update(env, Kind::download_task, id, [](Record& r) {
        r.state = "init";
        r.doc["BackupSetDownloadStatus"] = "init";
      });
    } else {
      stop_record(env, id, "stopped by request " + control.cancelled_by() + "; the partial file was deleted");
    }
    return stopped(control);
  }
  const std::string base = text(payload, "FileName");
  const std::string name = result.ok() && !result->extension.empty() ? base + "." + result->extension : base;
  const std::string final_path = settings.links->file_for(id, name);
  core::Status published = result.ok() ? publish(request.out_path, final_path, settings.links->dir())
                                       : core::Status(result.error());
  if (!published.ok()) {
    remove_quietly(request.out_path);
    stop_record(env, id, published.error().message);
    return failed(published.error());
  }
  const int64_t now = env.clock.now_ms();
  const int64_t expires_ms = now + settings.lifetime_ms;
  const std::string path = settings.links->signed_path(id, name, expires_ms / 1000);
  auto st = update(env, Kind::download_task, id, [&](Record& r) {
    r.state = "finish";
    r.doc["BackupSetDownloadStatus"] = "finish";
    r.doc["BackupSetDownloadFinishTime"] = now;
    r.doc["BackupSetDataSize"] = static_cast<int64_t>(result->bytes);
    r.doc["BackupSetDownloadInternetUrl"] = settings.internet_base + path;
    r.doc["BackupSetDownloadIntranetUrl"] = settings.intranet_base + path;
    r.doc["ErrMessage"] = "";
    r.doc["_File"] = fs::path(final_path).filename().string();
    r.doc["_ExpiresMs"] = expires_ms;
    r.doc["_NodeId"] = settings.node_id;
  });
  if (!st.ok()) {
    remove_quietly(final_path);
    return failed(st.error());
  }
  return {};
}

core::Status revoke_downloads(catalog::Tx& tx, const std::string& plan_id, const std::string& by_request_id,
                              int64_t now_ms) {
  catalog::Query q{Kind::download_task};
  q.parent_id = plan_id;
  q.states = {"finish"};
  OPENDBS_ASSIGN(auto finished, tx.list(q));
  for (auto& r : finished) {
    if (r.doc.at("BackupSetDownloadInternetUrl").as_string().empty()) continue;  // expired before
    r.doc["BackupSetDownloadInternetUrl"] = "";
    r.doc["BackupSetDownloadIntranetUrl"] = "";
    r.doc["_ExpiresMs"] = now_ms;
    r.doc["ErrMessage"] = "the plan was released by request " + by_request_id + "; the file was deleted";
    OPENDBS_TRY(tx.put(Kind::download_task, r));
  }
  return {};
}

core::Status expire_downloads(catalog::Store& store, const DownloadSettings& settings, int64_t now_ms) {
  if (!settings.links) return {};
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(settings.links->dir(), ec)) files.push_back(entry.path().filename().string());
  if (files.empty()) return {};
  std::vector<std::string> doomed;
  OPENDBS_TRY(store.transact([&](catalog::Tx& tx) -> core::Status {
    for (const auto& file : files) {
      const std::string id = file.substr(0, file.find('.'));
      OPENDBS_ASSIGN(auto rec, tx.get(Kind::download_task, id));
      // A file of a running task (its .partial) is the task's own business.
      if (rec && (rec->state == "running" || rec->state == "init")) continue;
      const bool expired = rec && rec->doc.contains("_ExpiresMs") && rec->doc.at("_ExpiresMs").as_int64() <= now_ms;
      if (rec && !expired && rec->state == "finish") continue;
      doomed.push_back(file);
      if (!rec || !expired || rec->doc.at("BackupSetDownloadInternetUrl").as_string().empty()) continue;
      rec->doc["BackupSetDownloadInternetUrl"] = "";
      rec->doc["BackupSetDownloadIntranetUrl"] = "";
      rec->doc["ErrMessage"] = "the file expired and was deleted; create a new download";
      OPENDBS_TRY(tx.put(Kind::download_task, *rec));
    }
    return {};
  }));
  for (const auto& file : doomed) {
    remove_quietly(settings.links->dir() + "/" + file);
    core::log_event(core::LogLevel::info, "download_expired", {{"File", file}});
  }
  return {};
}

}  // namespace opendbs::jobs
