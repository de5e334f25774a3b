#include "engines/postgres/dump_session.h"

namespace opendbs::engines::postgres {

core::Result<DatabaseEncoding> use_dump_settings(PgConnection& conn, const std::string& client_encoding) {
  OPENDBS_ASSIGN(auto rows, conn.query(
      "SELECT set_config('datestyle', 'ISO', false), set_config('intervalstyle', 'postgres', false),"
      " set_config('extra_float_digits', '3', false), set_config('row_security', 'off', false),"
      " set_config('statement_timeout', '0', false), set_config('lock_timeout', '0', false),"
      " set_config('idle_in_transaction_session_timeout', '0', false),"
      " pg_encoding_to_char(encoding) AS encoding, datcollate, datctype"
      " FROM pg_database WHERE datname = current_database()"));
  DatabaseEncoding db{rows.value(0, "encoding").value_or(""), rows.value(0, "datcollate").value_or(""),
                      rows.value(0, "datctype").value_or("")};
  OPENDBS_TRY(conn.use_client_encoding(client_encoding.empty() ? db.encoding : client_encoding));
  return db;
}

core::Status join_snapshot(PgConnection& conn, const std::string& snapshot) {
  OPENDBS_TRY(conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  OPENDBS_TRY(conn.query("SET TRANSACTION SNAPSHOT " + quote_literal(snapshot)));
  return {};
}

}  // namespace opendbs::engines::postgres
