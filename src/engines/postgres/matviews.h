// Materialized views of a logical set. The schema comes from `pg_dump --schema-only`, which creates
// every materialized view WITH NO DATA (its REFRESHes belong to the data section). So the backup
// records, in the database's manifest entry, which views were populated in the snapshot
// ("populated_matviews": [{"schema", "name"}] in an order that refreshes a view after the views it
// reads, also through plain views), and the restore and the SQL download refresh those at the end.
//
// A set from before this record: the restore refreshes every materialized view that is unpopulated
// once the rest is restored (all of them, as it created them; a view the source kept WITH NO DATA
// gets populated too), and the download ends with a block that does the same.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// The populated materialized views `conn` sees (in its snapshot), in refresh order; views that belong
// to an extension are left out, as pg_dump leaves them out.
core::Result<boost::json::array> populated_matviews(PgConnection& conn);

// Refreshes the materialized views `db` (a manifest database entry) records, after a restore into
// `conn`'s database. A refresh that fails is retried after the others as long as some succeed (a view
// may read one refreshed later, e.g. through a function); one that still fails stays unpopulated and
// is logged as a warning (the restored data are complete). Errors: cancellation, a lost connection.
core::Status refresh_matviews(PgConnection& conn, const boost::json::object& db, TaskControl& control);

// The SQL that ends a database of the download: the REFRESHes, in order.
std::string refresh_matviews_sql(const boost::json::object& db);

}  // namespace opendbs::engines::postgres
