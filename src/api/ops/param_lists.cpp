#include "api/ops/param_lists.h"

namespace opendbs::api::ops {

ParamSpec str_param(std::string name, bool required, std::string description, std::vector<std::string> allowed) {
  return ParamSpec{std::move(name), ParamType::string, required, std::move(allowed), std::move(description)};
}
ParamSpec int_param(std::string name, bool required, std::string description, int64_t min, int64_t max) {
  return ParamSpec{std::move(name), ParamType::integer, required, {}, std::move(description), min, max};
}
ParamSpec long_param(std::string name, bool required, std::string description) {
  return ParamSpec{std::move(name), ParamType::long_integer, required, {}, std::move(description)};
}
ParamSpec bool_param(std::string name, bool required, std::string description) {
  return ParamSpec{std::move(name), ParamType::boolean, required, {}, std::move(description)};
}

const std::vector<std::string> kDatabaseTypes = {"MySQL",  "MSSQL",   "Oracle", "MariaDB", "PostgreSQL", "DRDS",
                                                 "MongoDB", "Redis",  "PPAS",   "SQLite"};
const std::vector<std::string> kEndpointTypes = {"RDS", "ECS", "Express", "Agent", "DDS", "Other", "dg"};
const std::vector<std::string> kInstanceClasses = {"micro", "small", "medium", "large", "xlarge"};

std::vector<ParamSpec> common_params() {
  return {str_param("ClientToken", false, "Idempotency token (at most 64 ASCII characters), valid for 24 hours"),
          str_param("OwnerId", false, "Accepted and ignored"),
          str_param("RegionId", false, "Accepted; the region is the node's")};
}

std::vector<ParamSpec> source_endpoint_params(bool type_required) {
  return {
      str_param("SourceEndpointInstanceType", type_required, "Where the source runs; Other = any host by IP and port",
                kEndpointTypes),
      str_param("SourceEndpointRegion", false, "Region of the source"),
      str_param("SourceEndpointInstanceID", false, "Cloud instance id of the source (RDS/ECS/DDS/Express)"),
      str_param("SourceEndpointIP", false, "Host name or IP of the source (Express/Agent/Other)"),
      int_param("SourceEndpointPort", false, "Port of the source", 1, 65535),
      str_param("SourceEndpointDatabaseName", false,
                "Database to connect to (PostgreSQL); for SQLite, the database file's path"),
      str_param("SourceEndpointUserName", false, "User to connect as"),
      str_param("SourceEndpointPassword", false, "Password; stored encrypted, never returned"),
      str_param("SourceEndpointOracleSID", false, "Oracle SID"),
      str_param("SourceEndpointOracleHome", false, "Oracle home"),
      str_param("EnableSourceEndpointSsl", false, "Connect to the source with TLS", {"true", "false"}),
      str_param("SslCaPem", false, "CA certificate (PEM) to verify the source with"),
      long_param("BackupGatewayId", false, "The node that runs the backups (Agent)"),
      str_param("BackupObjects", false,
                "JSON list of databases/tables: [{\"DBName\":\"db\",\"TableIncludes\":[{\"TableName\":\"t\"}]}]"),
      str_param("CrossAliyunId", false, "Accepted and recorded"),
      str_param("CrossRoleName", false, "Accepted and recorded"),
  };
}

std::vector<ParamSpec> strategy_params(bool period_required) {
  return {
      str_param("BackupPeriod", period_required, "Weekdays of full backups, e.g. Monday,Thursday"),
      str_param("BackupStartTime", false, "Start time of full backups, HH:mm in UTC"),
      str_param("BackupStrategyType", false, "simple = on schedule, manual = only on request", {"simple", "manual"}),
      int_param("BackupLogIntervalSeconds", false, "Upper bound on the age of the open log file, seconds", 0, 86400),
  };
}

std::vector<ParamSpec> storage_params(bool required) {
  return {
      int_param("BackupRetentionPeriod", required, "Days full backup sets are kept (0-1825)", 0, 1825),
      int_param("DuplicationInfrequentAccessPeriod", required, "Days before sets move to IA (< archive period)", 0, 1825),
      int_param("DuplicationArchivePeriod", required, "Days before sets move to Archive (< retention)", 0, 1825),
      str_param("BackupStorageEncryptMethod", false, "Recorded; sets are always encrypted"),
  };
}

std::vector<ParamSpec> create_params() {
  return {
      str_param("BackupMethod", true, "logical, physical or duplication", {"logical", "physical", "duplication"}),
      str_param("DatabaseType", true, "The source's engine", kDatabaseTypes),
      str_param("InstanceClass", true, "Plan size (recorded; opendbs does not limit by class)", kInstanceClasses),
      str_param("InstanceType", false, "Recorded", {"RDS", "PolarDB", "DDS", "Kvstore", "Other", "dg"}),
      str_param("DatabaseRegion", false, "Recorded"),
      str_param("Region", false, "Region of the plan (defaults to the node's)"),
      str_param("StorageRegion", false, "Recorded"),
      str_param("StorageType", false, "Recorded"),
      str_param("PayType", false, "Recorded (no billing)", {"prepay", "postpay"}),
      str_param("Period", false, "Recorded (no billing)", {"Year", "Month"}),
      int_param("UsedTime", false, "Recorded (no billing)", 1, 11),
      str_param("FromApp", false, "Recorded"),
      str_param("ResourceGroupId", false, "Recorded"),
  };
}

std::vector<ParamSpec> concat(std::initializer_list<std::vector<ParamSpec>> lists) {
  std::vector<ParamSpec> out;
  for (const auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

}  // namespace opendbs::api::ops
