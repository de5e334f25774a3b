// `opendbs call ACTION --Param value ...`: any of the 36 DBS actions, signed, in the manner of
// `aliyun dbs StopBackupPlan --BackupPlanId ... --StopMethod ALL`. Parameters and help come from the
// operation registry compiled into the binary (the same schema the node serves at /api/schema).
#pragma once

#include <CLI/CLI.hpp>

namespace opendbs::cli {
void add_call_command(CLI::App& app, int& exit_code);
}
