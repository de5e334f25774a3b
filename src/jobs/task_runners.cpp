#include "jobs/task_runners.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "core/errors.h"
#include "core/log.h"
#include "jobs/log_barriers.h"
#include "jobs/log_chain.h"
#include "jobs/plan_warning.h"
#include "jobs/plan_spec.h"
#include "jobs/retention.h"
#include "jobs/restore_dir_lock.h"
#include "jobs/restore_root.h"
#include "jobs/runner_steps.h"
#include "jobs/tasks.h"
#include "repo/lock.h"

namespace opendbs::jobs {

using catalog::Kind;
using catalog::Record;

TaskResult failed(const core::Error& e) { return {Outcome::failed, e.code, e.message}; }

// What an engine says it cleaned up after a restore stopped part way: a Cancelled error's message
// past "cancelled" ("; the databases the restore had created were dropped: crm"), or "".
std::string cleanup_after_stop(const core::Status& st) {
  const std::string lead = "cancelled; ";
  if (st.ok() || st.error().code != "Cancelled" || st.error().message.rfind(lead, 0) != 0) return "";
  return "; " + st.error().message.substr(lead.size());
}

TaskResult stopped(const LocalTask& control) {
  if (control.is_handed_back()) return {Outcome::requeue, "", ""};
  return {Outcome::cancelled, "Cancelled", "stopped by request " + control.cancelled_by()};
}

core::Result<Record> load(TaskEnv& env, Kind kind, const std::string& id) {
  std::optional<Record> out;
  OPENDBS_TRY(env.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(out, tx.get(kind, id));
    return {};
  }));
  if (!out) return core::errors::not_found(std::string(catalog::kind_name(kind)) + " " + id + " is gone");
  return std::move(*out);
}

core::Status update(TaskEnv& env, Kind kind, const std::string& id, const std::function<void(Record&)>& change) {
  return env.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto rec, tx.get(kind, id));
    if (!rec) return core::errors::not_found(std::string(catalog::kind_name(kind)) + " " + id + " is gone");
    change(*rec);
    return tx.put(kind, *rec);
  });
}

std::string text(const boost::json::object& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

core::Result<engines::PlanSpec> plan_spec(TaskEnv& env, const Record& plan) { return plan_spec(env.secrets, plan); }

core::Result<std::shared_ptr<engines::Engine>> engine_for(TaskEnv& env, const engines::PlanSpec& spec) {
  auto engine = env.engines.find(spec.database_type);
  if (!engine) {
    std::string known;
    for (const auto& t : env.engines.types()) known += (known.empty() ? "" : ", ") + t;
    return core::make_error("EngineUnavailable", "no engine for DatabaseType " + spec.database_type +
                                                     " in this build of opendbs (available: " +
                                                     (known.empty() ? "none" : known) + ")");
  }
  return engine;
}

namespace {

void set_plan_status(TaskEnv& env, const std::string& plan_id, const std::string& status, const std::string& message) {
  (void)update(env, Kind::plan, plan_id, [&](Record& plan) {
    if (plan.state == "released") return;
    if (!status.empty()) {
      plan.state = status;
      plan.doc["BackupPlanStatus"] = status;
    }
    plan.doc["ErrMessage"] = message;
  });
}

// The plan doc field holding why the plan's last log backup task failed (plan_warning.h): it stays in
// ErrMessage until a later log backup task of the plan stores log again.
constexpr const char* kLogBackupFailureField = "_LogBackupFailure";

void set_log_backup_failure(TaskEnv& env, const std::string& plan_id, const std::string& message) {
  (void)env.store.transact([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(auto plan, tx.get(Kind::plan, plan_id));
    if (!plan || plan->state == "released") return {};
    if (!set_plan_warning(*plan, kLogBackupFailureField, message)) return {};
    return tx.put(Kind::plan, *plan);
  });
}

}  // namespace

TaskResult run_precheck(TaskEnv& env, const Record& task, LocalTask&) {
  auto plan = load(env, Kind::plan, task.parent_id);
  if (!plan.ok()) return failed(plan.error());
  std::vector<engines::PrecheckItem> items;
  auto spec = plan_spec(env, *plan);
  if (!spec.ok()) return failed(spec.error());
  auto engine = engine_for(env, *spec);
  if (engine.ok()) {
    items = (*engine)->precheck(*spec);
  } else {
    items.push_back({"CHECK_ENGINE", "failed", engine.error().message});
  }
  bool passed = true;
  std::string first_problem;
  const int64_t now = env.clock.now_ms();
  auto st = env.store.transact([&](catalog::Tx& tx) -> core::Status {
    for (size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      Record r{task.id + "-" + std::to_string(i), task.account_id, task.parent_id, item.state, now, {}};
      r.doc = {{"JobId", task.id}, {"Item", item.name}, {"Names", item.name}, {"State", item.state},
               {"ErrMsg", item.message}, {"OrderNum", std::to_string(i + 1)}, {"BootTime", now}, {"FinishTime", now}};
      OPENDBS_TRY(tx.put(Kind::precheck, r));
      if (item.state == "failed") {
        passed = false;
        if (first_problem.empty()) first_problem = item.name + ": " + item.message;
      }
    }
    OPENDBS_ASSIGN(auto p, tx.get(Kind::plan, task.parent_id));
    if (!p || p->state == "released" || p->state == "running") return {};
    const bool auto_start = task.doc.at("Payload").as_object().contains("AutoStart") &&
                            task.doc.at("Payload").at("AutoStart").as_bool();
    p->state = passed ? (auto_start ? "running" : "check_pass") : "init";
    p->doc["BackupPlanStatus"] = p->state;
    p->doc["ErrMessage"] = passed ? "" : "precheck failed: " + first_problem;
    if (passed && auto_start) {
      p->doc["_StartedAtMs"] = now;
      OPENDBS_TRY(queue_full_backup(tx, *p, now, "AutoStartBackup"));
      OPENDBS_TRY(ensure_log_backup(tx, *p, now));
    }
    return tx.put(Kind::plan, *p);
  });
  if (!st.ok()) return failed(st.error());
  if (!passed) return {Outcome::failed, "PrecheckFailed", first_problem};
  return {};
}

namespace {

// A prune (the node's own or `opendbs repo prune`) holds the repository exclusively for a while;
// a backup or restore starting meanwhile waits for it (up to 30 minutes, unless cancelled) rather
// than failing. `attempt` returns a Status or a Result.
template <class Attempt>
auto waiting_out_prune(const LocalTask& control, Attempt attempt) -> decltype(attempt()) {
  constexpr int64_t kWaitMs = 30 * 60 * 1000;
  auto result = attempt();
  for (int64_t waited = 0; !result.ok() && repo::locked_by_another(result.error()) && waited < kWaitMs; waited += 1000) {
    for (int i = 0; i < 20 && !control.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (control.cancelled()) break;
    result = attempt();
  }
  return result;
}

}  // namespace

TaskResult run_full_backup(TaskEnv& env, const Record& task, LocalTask& control) {
  const int64_t started = env.clock.now_ms();
  (void)update(env, Kind::backup_set, task.id, [&](Record& set) {
    set.state = "running";
    set.doc["BackupStatus"] = "running";
    set.doc["StartTime"] = started;
  });
  auto fail_set = [&](const std::string& status, const std::string& message) {
    (void)update(env, Kind::backup_set, task.id, [&](Record& set) {
      set.state = status;
      set.doc["BackupStatus"] = status;
      set.doc["ErrMessage"] = message;
      set.doc["FinishTime"] = env.clock.now_ms();
    });
  };
  auto plan = load(env, Kind::plan, task.parent_id);
  if (!plan.ok()) return failed(plan.error());
  auto spec = plan_spec(env, *plan);
  auto engine = spec.ok() ? engine_for(env, *spec) : core::Result<std::shared_ptr<engines::Engine>>(spec.error());
  if (!engine.ok()) {
    fail_set("failed", engine.error().message);
    set_plan_status(env, plan->id, "", "full backup " + task.id + " failed: " + engine.error().message);
    return failed(engine.error());
  }
  auto writer = waiting_out_prune(control, [&] { return env.repository.begin_set(task.id); });
  if (!writer.ok() && control.cancelled()) {  // while waiting for a prune
    if (control.is_handed_back())
      (void)update(env, Kind::backup_set, task.id, [](Record& set) { set.state = "init"; set.doc["BackupStatus"] = "init"; });
    else
      fail_set("stop", "stopped by request " + control.cancelled_by());
    return stopped(control);
  }
  if (!writer.ok()) {
    fail_set("failed", writer.error().message);
    return failed(writer.error());
  }
  auto result = (*engine)->full_backup(*spec, **writer, control);
  if (control.cancelled()) {
    (*writer)->abort();
    if (control.is_handed_back()) {
      (void)update(env, Kind::backup_set, task.id, [](Record& set) { set.state = "init"; set.doc["BackupStatus"] = "init"; });
      return {Outcome::requeue, "", ""};
    }
    fail_set("stop", "stopped by request " + control.cancelled_by() + "; partial data discarded");
    return stopped(control);
  }
  core::Status committed = result.ok() ? (*writer)->commit(result->metadata) : core::Status(result.error());
  // Finish only what is durable and readable: the manifest must load back from the repository.
  if (committed.ok()) committed = [&]() -> core::Status {
    OPENDBS_ASSIGN(auto manifest, env.repository.load_manifest(task.id));
    (void)manifest;
    return {};
  }();
  if (!committed.ok()) {
    (*writer)->abort();
    fail_set("failed", committed.error().message);
    set_plan_status(env, plan->id, "", "full backup " + task.id + " failed: " + committed.error().message);
    return failed(committed.error());
  }
  const auto stats = (*writer)->stats();
  (void)update(env, Kind::backup_set, task.id, [&](Record& set) {
    set.state = "finish";
    set.doc["BackupStatus"] = "finish";
    set.doc["EndTime"] = result->consistent_ms;
    set.doc["FinishTime"] = env.clock.now_ms();
    set.doc["BackupSize"] = static_cast<int64_t>(stats.bytes_stored);
    set.doc["BackupDataSize"] = static_cast<int64_t>(stats.bytes_in);
    set.doc["Progress"] = 100;
    set.doc["ErrMessage"] = control.warnings_text();  // e.g. TableIncludes that matched nothing
    set.doc["_LogStartSeq"] = result->log_start_seq;
    set.doc[kLogStartPosition] = result->log_start_position;
    // The source it was taken from (the plan's may have changed since the set was queued).
    set.doc["SourceEndpointIpPort"] = text(plan->doc, "SourceEndpointIpPort");
    set.doc["_SourceEpoch"] = source_epoch(plan->doc);
  });
  set_plan_status(env, plan->id, "", "");
  // A gap in the log chain stays in ErrMessage unless this set was taken after it.
  (void)env.store.transact([&](catalog::Tx& tx) { return refresh_log_gap_warning(tx, plan->id); });
  return {};
}

namespace {

// The files still open (FILLING, UNCOMPLETED) that a report of `f` passes: earlier or the same
// segment, another file, holding something, not found holding data at this segment before. Each was not resumed: the stream continued further on
// (a gap in the source's WAL), on a new timeline (the old timeline's end is a file of its own), or on
// a timeline forked off before it (the source taken back to an earlier moment).
core::Result<std::vector<Record>> passed_open_files(catalog::Tx& tx, const std::string& plan_id, int64_t epoch,
                                                    const engines::LogFile& f) {
  catalog::Query open_files{Kind::log_file};
  open_files.parent_id = plan_id;
  open_files.states = {"FILLING", "UNCOMPLETED"};
  OPENDBS_ASSIGN(auto files, tx.list(open_files));
  std::vector<Record> passed;
  for (auto& file : files)
    if (source_epoch(file.doc) == epoch && file.id != log_file_record_id(plan_id, epoch, f.name) &&
        file.doc.at("_Seq").as_int64() <= f.seq &&
        file.doc.at("BackupSize").as_int64() != 0 &&
        (!file.doc.contains("_PassedAt") || file.doc.at("_PassedAt").as_int64() < f.seq))
      passed.push_back(std::move(file));
  return passed;
}

// Of the files a report of `f` passes, those whose partial sets the repository still holds (the engine
// forgets a file's partial sets once the stream has stored more of the same timeline, and keeps those
// of a timeline a fork left). Lists the repository only when a file is passed.
core::Result<std::set<std::string>> passed_files_holding_data(TaskEnv& env, const Record& plan,
                                                              const engines::LogFile& f) {
  std::vector<Record> passed;
  OPENDBS_TRY(env.store.read([&](catalog::Tx& tx) -> core::Status {
    OPENDBS_ASSIGN(passed, passed_open_files(tx, plan.id, source_epoch(plan.doc), f));
    return {};
  }));
  std::set<std::string> holding;
  if (passed.empty()) return holding;
  OPENDBS_ASSIGN(const auto sets, env.repository.list_sets());
  for (const auto& file : passed) {
    const std::string name(file.doc.at("BackupSetId").as_string());
    const std::string prefix = engines::log_partial_prefix(log_chain_id(plan.id, source_epoch(plan.doc)), name);
    if (std::any_of(sets.begin(), sets.end(), [&](const std::string& id) { return id.starts_with(prefix); }))
      holding.insert(name);
  }
  return holding;
}

// A timeline history file holds no WAL; the engine reports the switch moment as its times, or 0 when
// it does not know it (the stream began on that timeline). It then gets the moment the chain's stored
// log at or before its position ends, or else the moment it is stored.
core::Result<int64_t> history_moment(catalog::Tx& tx, const Record& plan, int64_t epoch, const engines::LogFile& f,
                                     int64_t now_ms) {
  catalog::Query q{Kind::log_file};
  q.parent_id = plan.id;
  q.states = {"FILLING", "COMPLETED", "UNCOMPLETED"};
  OPENDBS_ASSIGN(const auto files, tx.list(q));
  int64_t latest = 0;
  for (const auto& file : files)
    if (source_epoch(file.doc) == epoch && file.doc.at("_Seq").as_int64() <= f.seq)
      latest = std::max(latest, file.doc.at("EndTime").as_int64());
  return latest > 0 ? latest : now_ms;
}

// Records a log file as the engine reports it (DescribeIncrementBackupList shows the record).
// `holding_data`: the files it passes whose partial sets are still stored.
core::Status record_log_file(catalog::Tx& tx, const Record& plan, const std::string& task_id, const engines::LogFile& f,
                             const std::set<std::string>& holding_data, int64_t now_ms) {
  const int64_t epoch = source_epoch(plan.doc);
  const std::string id = log_file_record_id(plan.id, epoch, f.name);
  int64_t start_ms = f.start_ms, end_ms = f.end_ms, size = static_cast<int64_t>(f.size);
  if (f.name.ends_with(".history") && start_ms == 0 && end_ms == 0) {
    OPENDBS_ASSIGN(start_ms, history_moment(tx, plan, epoch, f, now_ms));
    end_ms = start_ms;
  }
  auto barriers = f.barriers;
  // A resumed log backup reopens the segment an earlier one left UNCOMPLETED (or FILLING, after a crash)
  // and reports it FILLING with nothing received yet. The partial set stored before stays in the
  // repository until a larger one supersedes it, so the file keeps claiming what that set holds.
  OPENDBS_ASSIGN(auto known, tx.get(Kind::log_file, id));
  if (known && f.status == "FILLING" && (known->state == "UNCOMPLETED" || known->state == "FILLING") &&
      known->doc.at("_Seq").as_int64() == f.seq) {
    end_ms = std::max(end_ms, known->doc.at("EndTime").as_int64());
    if (known->doc.at("BackupSize").as_int64() > size) {
      size = known->doc.at("BackupSize").as_int64();
      barriers = log_barriers_of(known->doc);
    }
  }
  // The plan's retention now: ModifyStorageStrategy may have changed it since this task loaded the plan.
  OPENDBS_ASSIGN(const auto current, tx.get(Kind::plan, plan.id));
  const int64_t keep = retention_ms((current ? *current : plan).doc);
  Record r{id, plan.account_id, plan.id, f.status, start_ms, {}};
  r.doc = {{"BackupSetId", f.name},      {"BackupSetJobId", task_id}, {"BackupStatus", f.status},
           {"StartTime", start_ms},      {"EndTime", end_ms},         {"BackupSize", size},
           {"StorageMethod", "Standard"}, {"_Seq", f.seq}, {"_SourceEpoch", epoch},
           {"SourceEndpointIpPort", text(plan.doc, "SourceEndpointIpPort")}};
  r.doc["BackupSetExpiredTime"] = log_file_expiry_ms(r.doc, keep);
  put_log_barriers(r.doc, barriers);
  OPENDBS_TRY(tx.put(Kind::log_file, r));
  // A passed file ends UNCOMPLETED. One whose partial sets the engine forgot holds nothing: no bytes,
  // and EndTime 0 as the engine reports a segment just opened (restore ranges then take nothing from
  // it). One whose newest partial set is kept (a fork's abandoned timeline, a segment a gap skipped)
  // keeps claiming what that set holds, as its last report said.
  OPENDBS_ASSIGN(auto passed, passed_open_files(tx, plan.id, epoch, f));
  for (auto& file : passed) {
    file.state = "UNCOMPLETED";
    file.doc["BackupStatus"] = "UNCOMPLETED";
    if (!holding_data.contains(std::string(file.doc.at("BackupSetId").as_string()))) {
      file.doc["EndTime"] = 0;
      file.doc["BackupSize"] = 0;
      put_log_barriers(file.doc, {});
    } else {
      // Looked at again once the stream reports a later segment: by then it has completed this one and
      // forgotten what the complete segment supersedes; the partial set before a gap, and a fork's
      // abandoned timeline, stay.
      file.doc["_PassedAt"] = f.seq;
    }
    OPENDBS_TRY(tx.put(Kind::log_file, file));
  }
  // A new segment may lie past a break in the chain (the source removed what the stream had not
  // stored): the plan's ErrMessage then says so.
  if (!known) OPENDBS_TRY(refresh_log_gap_warning(tx, plan.id));
  return {};
}

}  // namespace

TaskResult run_log_backup(TaskEnv& env, const Record& task, LocalTask& control) {
  auto plan = load(env, Kind::plan, task.parent_id);
  if (!plan.ok()) return failed(plan.error());
  auto spec = plan_spec(env, *plan);
  if (!spec.ok()) return failed(spec.error());
  auto resume = env.store.read([&](catalog::Tx& tx) -> core::Status {
    catalog::Query done{Kind::log_file};
    done.parent_id = plan->id;
    done.states = {"COMPLETED"};
    OPENDBS_ASSIGN(auto files, tx.list(done));
    for (const auto& f : files)
      if (source_epoch(f.doc) == source_epoch(plan->doc))
        spec->log_resume_seq = std::max(spec->log_resume_seq, f.doc.at("_Seq").as_int64() + 1);
    return {};
  });
  if (!resume.ok()) return failed(resume.error());
  auto engine = engine_for(env, *spec);
  if (!engine.ok()) {
    set_log_backup_failure(env, plan->id, "log backup failed: " + engine.error().message);
    return failed(engine.error());
  }
  // The task's bytes are the log it stored: each file's growth (an open file is reported again as
  // more of it is durable), for /metrics.
  std::map<std::string, uint64_t> stored;
  uint64_t stored_bytes = 0;
  bool failure_cleared = false;
  auto on_file = [&](const engines::LogFile& f) -> core::Status {
    OPENDBS_ASSIGN(const auto holding_data, passed_files_holding_data(env, *plan, f));
    OPENDBS_TRY(env.store.transact(
        [&](catalog::Tx& tx) { return record_log_file(tx, *plan, task.id, f, holding_data, env.clock.now_ms()); }));
    uint64_t& before = stored[f.name];
    if (f.size > before) stored_bytes += f.size - before, before = f.size;
    if (stored_bytes > 0 && !failure_cleared) {  // storing log again: an earlier task's failure is over
      set_log_backup_failure(env, plan->id, "");
      failure_cleared = true;
    }
    control.progress(0, stored_bytes);
    return core::Status{};
  };
  auto st = (*engine)->log_backup(*spec, env.repository, control, on_file);
  // A file still open when the task ends gets its final status: UNCOMPLETED, with the EndTime and
  // BackupSize of its last partial set (the WAL that arrived of it, durable and restorable), or of
  // nothing when none was cut. A later log backup of the plan reports the same file again.
  (void)env.store.transact([&](catalog::Tx& tx) -> core::Status {
    catalog::Query open_files{Kind::log_file};
    open_files.parent_id = plan->id;
    open_files.states = {"FILLING"};
    OPENDBS_ASSIGN(auto files, tx.list(open_files));
    for (auto& f : files) {
      if (f.doc.at("BackupSetJobId").as_string() != task.id) continue;
      f.state = "UNCOMPLETED";
      f.doc["BackupStatus"] = "UNCOMPLETED";
      OPENDBS_TRY(tx.put(Kind::log_file, f));
    }
    return {};
  });
  if (control.cancelled()) return stopped(control);
  if (!st.ok()) {
    set_log_backup_failure(env, plan->id, "log backup failed: " + st.error().message);
    return failed(st.error());
  }
  return {};
}

namespace {

// RestoreObjects as the restore carried it out: the list asked for, with NewDBName set (or an entry
// added) for each database restored under a name the engine chose (DuplicateConflict=renamenew), so
// that DescribeRestoreTaskList shows where the data went.
std::string restore_objects_done(const std::string& asked, const std::vector<std::pair<std::string, std::string>>& renamed) {
  boost::json::array list;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(asked, ec);
  if (!ec && parsed.is_array()) list = std::move(parsed.as_array());
  for (const auto& [database, name] : renamed) {
    auto entry = std::find_if(list.begin(), list.end(), [&](const boost::json::value& e) {
      const auto* db = e.is_object() ? e.as_object().if_contains("DBName") : nullptr;
      return db && db->is_string() && db->as_string() == database;
    });
    if (entry != list.end()) entry->as_object()["NewDBName"] = name;
    else list.push_back(boost::json::object{{"DBName", database}, {"NewDBName", name}});
  }
  return boost::json::serialize(list);
}

// The sets a restore may start from, in order: its BackupSetId, then (when the API chose it for a
// RestoreTime) the older sets of the range, newest first.
std::vector<std::string> restore_base_sets(const Record& restore) {
  std::vector<std::string> out{text(restore.doc, "BackupSetId")};
  if (const auto* older = restore.doc.if_contains("_OlderBaseSetIds"); older && older->is_array())
    for (const auto& id : older->as_array())
      if (id.is_string()) out.emplace_back(id.as_string());
  return out;
}

}  // namespace

TaskResult run_restore(TaskEnv& env, const Record& task, LocalTask& control) {
  const std::string restore_id = task.id;
  auto restore = load(env, Kind::restore_task, restore_id);
  auto plan = load(env, Kind::plan, task.parent_id);
  if (!restore.ok() || !plan.ok()) return failed(restore.ok() ? plan.error() : restore.error());
  auto finish = [&](const std::string& status, const std::string& message) {
    (void)update(env, Kind::restore_task, restore_id, [&](Record& r) {
      r.state = status;
      r.doc["RestoreStatus"] = status;
      r.doc["ErrMessage"] = message;
      r.doc["RestoreTaskFinishTime"] = env.clock.now_ms();
      // Also when it stopped part way: a database may have been created under its new name already.
      if (const auto renamed = control.renamed_databases(); !renamed.empty())
        r.doc["RestoreObjects"] = restore_objects_done(text(r.doc, "RestoreObjects"), renamed);
      if (status == "finish")
        for (const char* f : {"FullDataRestoreProgress", "FullStruforeRestoreProgress", "FullStruAfterRestoreProgress",
                              "ContinuousRestoreProgress"})
          r.doc[f] = 100;
    });
  };
  auto spec = plan_spec(env, *plan);
  auto engine = spec.ok() ? engine_for(env, *spec) : core::Result<std::shared_ptr<engines::Engine>>(spec.error());
  if (!engine.ok()) {
    finish("stop", engine.error().message);
    return failed(engine.error());
  }
  engines::RestoreRequest request;
  request.set_id = text(restore->doc, "BackupSetId");
  request.target_ms = restore->doc.at("RestoreTime").to_number<int64_t>();
  request.target_dir = text(restore->doc, "RestoreDir");
  request.restore_objects = text(restore->doc, "RestoreObjects");
  request.duplicate_conflict = text(restore->doc, "_DuplicateConflict");
  request.log_fetch = env.log_fetch;
  request.destination.host = text(restore->doc, "_DestinationEndpointIP");
  const std::string port = text(restore->doc, "_DestinationEndpointPort");
  request.destination.port = port.empty() ? 0 : std::stoi(port);
  request.destination.user = text(restore->doc, "DestinationEndpointUserName");
  request.destination.database = text(restore->doc, "DestinationEndpointDatabaseName");
  const std::string sealed = text(restore->doc, "_DestinationEndpointPasswordSealed");
  if (!sealed.empty()) {
    auto password = env.secrets.open(sealed);
    if (!password.ok()) return failed(password.error());
    request.destination.password = *password;
  }
  // The restore owns its directory until it ends (restore_dir_lock.h), one below the node's restore
  // root (checked again: the root may have changed since CreateRestoreTask).
  std::optional<RestoreDirLock> dir_lock;
  if (!request.target_dir.empty()) {
    if (auto allowed = check_restore_root(env.restore_root, request.target_dir); !allowed.ok()) {
      finish("stop", allowed.error().message);
      return failed(allowed.error());
    }
    auto lock = lock_restore_dir(env.store, *restore, request.target_dir);
    if (!lock.ok()) {
      finish("stop", lock.error().message);
      return failed(lock.error());
    }
    dir_lock.emplace(std::move(*lock));
  }
  // A restore takes its shared lock before it writes anything, so one refused by a prune can start over.
  core::Status st;
  for (const auto& base : restore_base_sets(*restore)) {
    request.set_id = base;
    // The log that rolls the set forward is the chain of the source it was taken from.
    if (auto set = load(env, Kind::backup_set, base); set.ok()) spec->plan_id = log_chain_id(plan->id, source_epoch(set->doc));
    st = waiting_out_prune(control, [&] { return (*engine)->restore(*spec, env.repository, request, control); });
    if (st.ok() || control.cancelled() || !engines::is_base_set_cannot_reach(st.error())) break;
    core::log_event(core::LogLevel::info, "restore_base_set_unreachable",
                    {{"restore", restore_id}, {"set", base}, {"error", st.error().message}});
  }
  if (!st.ok() && dir_lock) dir_lock->remove_if_created_and_empty();
  if (request.set_id != text(restore->doc, "BackupSetId"))  // DescribeRestoreTaskList names the set used
    (void)update(env, Kind::restore_task, restore_id, [&](Record& r) { r.doc["BackupSetId"] = request.set_id; });
  if (control.cancelled()) {
    if (control.is_handed_back()) return {Outcome::requeue, "", ""};
    finish("stop", "stopped by request " + control.cancelled_by() + cleanup_after_stop(st));
    return stopped(control);
  }
  if (!st.ok()) {
    finish("stop", st.error().message);
    return failed(st.error());
  }
  // A finished restore's ErrMessage carries the engine's warnings (what it placed elsewhere or left out).
  finish("finish", control.warnings_text());
  return {};
}

}  // namespace opendbs::jobs
