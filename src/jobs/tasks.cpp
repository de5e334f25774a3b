#include "jobs/tasks.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/ids.h"
#include "jobs/retention.h"

namespace opendbs::jobs {

catalog::Record new_task(std::string_view kind, const catalog::Record& plan, int64_t now_ms,
                         boost::json::object payload, std::string id) {
  catalog::Record r{id.empty() ? core::new_job_id() : std::move(id), plan.account_id, plan.id, "queued", now_ms, {}};
  r.doc["TaskId"] = r.id;
  r.doc["TaskKind"] = kind;
  r.doc["BackupPlanId"] = plan.id;
  r.doc["CreateTime"] = now_ms;
  r.doc["Attempts"] = 0;
  r.doc["Progress"] = 0;
  r.doc["Payload"] = std::move(payload);
  return r;
}

core::Result<std::vector<catalog::Record>> unfinished_tasks(catalog::Tx& tx, const std::string& plan_id,
                                                            const std::vector<std::string_view>& kinds) {
  catalog::Query q{catalog::Kind::task};
  q.parent_id = plan_id;
  q.states = {"queued", "running"};
  OPENDBS_ASSIGN(auto all, tx.list(q));
  if (kinds.empty()) return all;
  std::vector<catalog::Record> out;
  for (auto& t : all) {
    const auto kind = std::string_view(t.doc.at("TaskKind").as_string());
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) out.push_back(std::move(t));
  }
  return out;
}

core::Result<std::vector<std::string>> unfinished_log_backups(catalog::Tx& tx, const std::string& plan_id) {
  OPENDBS_ASSIGN(auto tasks, unfinished_tasks(tx, plan_id, {task_kind::log_backup}));
  std::vector<std::string> ids;
  for (const auto& t : tasks) ids.push_back(t.id);
  return ids;
}

namespace {

constexpr const char* kSourceFields[] = {"SourceEndpointHost",         "SourceEndpointPort",
                                         "SourceEndpointIpPort",       "SourceEndpointUserName",
                                         "SourceEndpointDatabaseName", "SourceEndpointEnableSsl",
                                         "_SourceEndpointPasswordSealed", "_SourceEpoch"};

std::string lower_text(const boost::json::object& doc, const char* field) {
  auto it = doc.find(field);
  std::string out = it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

catalog::Record new_release_task(const catalog::Record& plan, int64_t now_ms, const std::vector<std::string>& wait_for) {
  boost::json::object source;
  for (const char* f : kSourceFields)
    if (const auto* v = plan.doc.if_contains(f)) source[f] = *v;
  source["_SourceEpoch"] = source_epoch(plan.doc);  // names the slot (plan_spec.h log_chain_id)
  boost::json::array waits;
  for (const auto& id : wait_for) waits.emplace_back(id);
  return new_task(task_kind::release_log, plan, now_ms, boost::json::object{{"Source", std::move(source)},
                                                                            {"WaitFor", std::move(waits)}});
}

int64_t source_epoch(const boost::json::object& doc) {
  const auto* epoch = doc.if_contains("_SourceEpoch");
  return epoch && epoch->is_int64() ? epoch->as_int64() : 0;
}

bool source_server_changed(const catalog::Record& before, const catalog::Record& after) {
  for (const char* f : {"SourceEndpointInstanceType", "SourceEndpointInstanceID", "SourceEndpointHost", "SourceEndpointPort"})
    if (lower_text(before.doc, f) != lower_text(after.doc, f)) return true;
  return false;
}

namespace {

// The record a task of `kind` writes for the API, and how that record spells its status and end.
struct TaskRecordFields {
  catalog::Kind kind;
  const char* status_field;
  const char* finish_field;
};

std::optional<TaskRecordFields> record_fields(std::string_view kind) {
  if (kind == task_kind::full_backup) return TaskRecordFields{catalog::Kind::backup_set, "BackupStatus", "FinishTime"};
  if (kind == task_kind::restore)
    return TaskRecordFields{catalog::Kind::restore_task, "RestoreStatus", "RestoreTaskFinishTime"};
  if (kind == task_kind::download)
    return TaskRecordFields{catalog::Kind::download_task, "BackupSetDownloadStatus", "BackupSetDownloadFinishTime"};
  return std::nullopt;
}

}  // namespace

core::Status close_task_record(catalog::Tx& tx, const catalog::Record& task, const std::string& status,
                               const std::string& message, int64_t now_ms) {
  const auto kind = std::string_view(task.doc.at("TaskKind").as_string());
  const auto fields = record_fields(kind);
  if (!fields) return {};
  OPENDBS_ASSIGN(auto record, tx.get(fields->kind, task.id));
  if (!record || record->state == "finish" || record->state == "stop" || record->state == "failed") return {};
  // Only a full backup set has "failed"; a restore or download that did not finish ends "stop".
  record->state = kind == task_kind::full_backup ? status : "stop";
  record->doc[fields->status_field] = record->state;
  record->doc["ErrMessage"] = message;
  record->doc[fields->finish_field] = now_ms;
  return tx.put(fields->kind, *record);
}

core::Result<std::vector<std::string>> cancel_tasks(catalog::Tx& tx, const std::string& plan_id,
                                                    const std::vector<std::string_view>& kinds,
                                                    const std::string& by_request_id, int64_t now_ms) {
  OPENDBS_ASSIGN(auto tasks, unfinished_tasks(tx, plan_id, kinds));
  std::vector<std::string> running;
  for (auto& t : tasks) {
    t.doc["_CancelRequestedBy"] = by_request_id;
    t.doc["ErrMessage"] = "stopped by request " + by_request_id;
    if (t.state == "queued") {
      t.state = "cancelled";
      t.doc["FinishTime"] = now_ms;
      OPENDBS_TRY(close_task_record(tx, t, "stop", "stopped by request " + by_request_id + " before it started", now_ms));
    } else {
      running.push_back(t.id);
    }
    OPENDBS_TRY(tx.put(catalog::Kind::task, t));
  }
  return running;
}

core::Result<std::string> queue_full_backup(catalog::Tx& tx, const catalog::Record& plan, int64_t now_ms,
                                            const std::string& trigger) {
  auto task = new_task(task_kind::full_backup, plan, now_ms, boost::json::object{{"Trigger", trigger}});
  catalog::Record set{task.id, plan.account_id, plan.id, "init", now_ms, {}};
  auto& d = set.doc;
  auto field = [&](const char* name) { return plan.doc.contains(name) ? plan.doc.at(name) : boost::json::value(""); };
  d["BackupSetId"] = set.id;
  d["BackupStatus"] = "init";
  d["BackupMethod"] = field("BackupMethod");
  d["CreateTime"] = now_ms;
  d["StartTime"] = 0;
  d["EndTime"] = 0;
  d["FinishTime"] = 0;
  d["BackupSize"] = 0;
  d["Progress"] = 0;
  d["BackupObjects"] = field("BackupObjects");
  d["SourceEndpointIpPort"] = field("SourceEndpointIpPort");
  d["StorageMethod"] = "Standard";
  d["BackupSetExpiredTime"] = set_expiry_ms(d, retention_ms(plan.doc));
  d["ErrMessage"] = "";
  OPENDBS_TRY(tx.put(catalog::Kind::backup_set, set));
  OPENDBS_TRY(tx.put(catalog::Kind::task, task));
  return task.id;
}

core::Status ensure_log_backup(catalog::Tx& tx, const catalog::Record& plan, int64_t now_ms) {
  if (!plan.doc.at("EnableBackupLog").as_bool() || plan.state != "running") return {};
  OPENDBS_ASSIGN(auto running, unfinished_tasks(tx, plan.id, {task_kind::log_backup}));
  if (!running.empty()) return {};
  return tx.put(catalog::Kind::task, new_task(task_kind::log_backup, plan, now_ms, {}));
}

}  // namespace opendbs::jobs
