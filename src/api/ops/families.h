// The operation families; registry.cpp puts them together in api-reference.md's order.
#pragma once

#include <vector>

#include "api/operation.h"

namespace opendbs::api::ops {

std::vector<OperationSpec> plan_lifecycle_operations();
std::vector<OperationSpec> plan_settings_operations();
std::vector<OperationSpec> plan_query_operations();
std::vector<OperationSpec> backup_set_operations();
std::vector<OperationSpec> restore_operations();
std::vector<OperationSpec> node_operations();

}  // namespace opendbs::api::ops
