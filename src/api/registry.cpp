#include "api/operation.h"
#include "api/ops/families.h"

namespace opendbs::api {

const std::vector<OperationSpec>& operations() {
  static const std::vector<OperationSpec> all = [] {
    std::vector<OperationSpec> out;
    for (auto family : {ops::plan_lifecycle_operations, ops::plan_settings_operations, ops::plan_query_operations,
                        ops::backup_set_operations, ops::restore_operations, ops::node_operations})
      for (auto& op : family()) out.push_back(std::move(op));
    return out;
  }();
  return all;
}

}  // namespace opendbs::api
