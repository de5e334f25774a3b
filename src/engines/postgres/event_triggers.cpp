#include "engines/postgres/event_triggers.h"

#include "core/log.h"

namespace opendbs::engines::postgres {
namespace {

core::Status run(PgConnection& conn, const std::string& sql) {
  auto r = conn.query(sql);
  return r.ok() ? core::Status{} : core::Status(r.error());
}

}  // namespace

std::string enable_statement(const PausedEventTrigger& trigger) {
  const char* mode = trigger.state == 'R' ? " REPLICA" : trigger.state == 'A' ? " ALWAYS" : "";
  return "ALTER EVENT TRIGGER " + quote_ident(trigger.name) + " ENABLE" + mode;
}

core::Status with_event_triggers_disabled(PgConnection& conn, const std::function<core::Status()>& steps) {
  OPENDBS_ASSIGN(auto rows, conn.query("SELECT evtname, evtenabled FROM pg_catalog.pg_event_trigger"
                                       " WHERE evtenabled <> 'D' ORDER BY evtname"));
  std::vector<PausedEventTrigger> paused;
  core::Status result;
  for (const auto& row : rows.rows) {
    const PausedEventTrigger trigger{row[0].value_or(""), row[1].value_or("O").front()};
    result = run(conn, "ALTER EVENT TRIGGER " + quote_ident(trigger.name) + " DISABLE");
    if (!result.ok()) break;
    paused.push_back(trigger);
  }
  if (result.ok()) result = steps();
  for (const auto& trigger : paused) {
    auto enabled = run(conn, enable_statement(trigger));
    if (enabled.ok()) continue;
    core::log_event(core::LogLevel::warn, "postgres_restore_event_trigger_not_enabled",
                    {{"trigger", trigger.name}, {"error", enabled.error().message}});
    if (result.ok())
      result = core::make_error(enabled.error().code, "enabling event trigger " + trigger.name +
                                                          " again after the restore's own DDL: " + enabled.error().message);
  }
  return result;
}

EventTriggerFrame event_trigger_frame_sql(const std::string& post_data) {
  if (post_data.find("\nCREATE EVENT TRIGGER ") == std::string::npos && !post_data.starts_with("CREATE EVENT TRIGGER "))
    return {};
  return {
      "\n-- The database's event triggers are disabled while the refreshes and settings below run (a trigger\n"
      "-- refusing DDL would refuse them), then given back the states they had.\n"
      "SELECT pg_catalog.set_config('opendbs.event_triggers', coalesce(pg_catalog.json_agg(\n"
      "  pg_catalog.json_build_array(evtname, evtenabled))::text, '[]'), false)\n"
      "  FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D';\n"
      "DO $opendbs$\nDECLARE t record;\nBEGIN\n"
      "  FOR t IN SELECT e.v->>0 AS name FROM pg_catalog.json_array_elements(\n"
      "           pg_catalog.current_setting('opendbs.event_triggers')::json) AS e(v) LOOP\n"
      "    EXECUTE pg_catalog.format('ALTER EVENT TRIGGER %I DISABLE', t.name);\n"
      "  END LOOP;\nEND $opendbs$;\n",
      "\n-- The event triggers again as they were.\n"
      "DO $opendbs$\nDECLARE t record;\nBEGIN\n"
      "  FOR t IN SELECT e.v->>0 AS name, e.v->>1 AS state FROM pg_catalog.json_array_elements(\n"
      "           pg_catalog.current_setting('opendbs.event_triggers')::json) AS e(v) LOOP\n"
      "    EXECUTE pg_catalog.format('ALTER EVENT TRIGGER %I ENABLE%s', t.name,\n"
      "      CASE t.state WHEN 'R' THEN ' REPLICA' WHEN 'A' THEN ' ALWAYS' ELSE '' END);\n"
      "  END LOOP;\nEND $opendbs$;\n"};
}

}  // namespace opendbs::engines::postgres
