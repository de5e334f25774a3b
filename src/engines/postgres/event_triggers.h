// Event triggers of a restored database while the restore's own DDL runs. pg_dump writes CREATE EVENT
// TRIGGER at the end of post-data (with ALTER EVENT TRIGGER ... ENABLE REPLICA | ALWAYS | DISABLE for
// the source's state), so a database guarded by one that refuses DDL (`ON ddl_command_start ...
// RAISE EXCEPTION`) refused what a logical restore runs after post-data: RestoreObjects' table renames
// (the restore failed) and the materialized views' refreshes (left unpopulated). So the restore, and
// the SQL download, disable every enabled event trigger of the database for those steps
// (ALTER EVENT TRIGGER, which event triggers do not fire on) and then give each its state back.
// Creating an event trigger needs a superuser, so a role that restored one may alter it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// An event trigger disabled for the restore's steps and the state to give back
// (pg_event_trigger.evtenabled: 'O' enabled, 'R' replica, 'A' always).
struct PausedEventTrigger {
  std::string name;
  char state = 'O';
};

// ALTER EVENT TRIGGER `name` ENABLE [REPLICA | ALWAYS] for `trigger`'s state.
std::string enable_statement(const PausedEventTrigger& trigger);

// Runs `steps` on `conn`'s database with its enabled event triggers disabled, and enables them as they
// were afterwards, also when `steps` fail (whose error comes first).
core::Status with_event_triggers_disabled(PgConnection& conn, const std::function<core::Status()>& steps);

// The SQL download's frame for the same steps: `disable` records the enabled triggers' states in the
// session (a setting: a table would be DDL) and disables them, `enable` gives the states back. Both are
// "" for a database whose post-data creates no event trigger.
struct EventTriggerFrame {
  std::string disable, enable;
};
EventTriggerFrame event_trigger_frame_sql(const std::string& post_data);

}  // namespace opendbs::engines::postgres
