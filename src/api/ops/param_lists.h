// Parameter schemas shared by several operations (api-reference.md §2 and §3).
#pragma once

#include <vector>

#include "api/operation.h"

namespace opendbs::api::ops {

ParamSpec str_param(std::string name, bool required, std::string description, std::vector<std::string> allowed = {});
ParamSpec int_param(std::string name, bool required, std::string description, int64_t min = 0, int64_t max = 0);
ParamSpec long_param(std::string name, bool required, std::string description);
ParamSpec bool_param(std::string name, bool required, std::string description);

extern const std::vector<std::string> kDatabaseTypes;
extern const std::vector<std::string> kEndpointTypes;
extern const std::vector<std::string> kInstanceClasses;

// Every request model carries these two (api-reference.md §1).
std::vector<ParamSpec> common_params();
// Fields of a source endpoint (ConfigureBackupPlan, ModifyBackupSourceEndpoint, CreateAndStartBackupPlan).
std::vector<ParamSpec> source_endpoint_params(bool type_required);
// BackupPeriod, BackupStartTime, BackupStrategyType, BackupLogIntervalSeconds.
std::vector<ParamSpec> strategy_params(bool period_required);
// BackupRetentionPeriod and the two duplication periods.
std::vector<ParamSpec> storage_params(bool required);
// BackupMethod, DatabaseType, InstanceClass, ... of CreateBackupPlan.
std::vector<ParamSpec> create_params();

std::vector<ParamSpec> concat(std::initializer_list<std::vector<ParamSpec>> lists);

}  // namespace opendbs::api::ops
