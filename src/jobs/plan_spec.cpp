#include "jobs/plan_spec.h"

#include <charconv>

#include "core/errors.h"
#include "jobs/tasks.h"

namespace opendbs::jobs {
namespace {

std::string text(const boost::json::object& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

}  // namespace

std::string log_chain_id(const std::string& plan_id, int64_t epoch) {
  return epoch == 0 ? plan_id : plan_id + "_g" + std::to_string(epoch);
}

std::string log_file_record_id(const std::string& plan_id, int64_t epoch, const std::string& name) {
  return log_chain_id(plan_id, epoch) + "-" + name;
}

core::Result<engines::PlanSpec> plan_spec(const iam::SecretBox& secrets, const catalog::Record& plan) {
  engines::PlanSpec spec;
  spec.plan_id = log_chain_id(plan.id, source_epoch(plan.doc));
  spec.database_type = text(plan.doc, "DatabaseType");
  spec.backup_method = text(plan.doc, "BackupMethod");
  spec.backup_objects = text(plan.doc, "BackupObjects");
  spec.source.host = text(plan.doc, "SourceEndpointHost");
  const std::string port = text(plan.doc, "SourceEndpointPort");
  if (!port.empty() && std::from_chars(port.data(), port.data() + port.size(), spec.source.port).ec != std::errc())
    return core::errors::corrupt("plan " + plan.id + " has SourceEndpointPort '" + port + "'");
  spec.source.user = text(plan.doc, "SourceEndpointUserName");
  spec.source.database = text(plan.doc, "SourceEndpointDatabaseName");
  spec.source.ssl = text(plan.doc, "SourceEndpointEnableSsl") == "true";
  const std::string sealed = text(plan.doc, "_SourceEndpointPasswordSealed");
  if (!sealed.empty()) {
    OPENDBS_ASSIGN(spec.source.password, secrets.open(sealed));
  }
  return spec;
}

}  // namespace opendbs::jobs
