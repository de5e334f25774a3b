// How a logical restore creates a database of the set: in the encoding it had (TEMPLATE template0, the
// only template that may be copied into another encoding), with its libc locale (LC_COLLATE, LC_CTYPE)
// and, where its default collation came from ICU or (17+) the builtin provider, that provider and
// locale (and 16+ ICU rules) — each as far as the destination takes them (database_properties.h
// says what the manifest records).
#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "core/result.h"
#include "engines/engine.h"
#include "engines/postgres/pg_connection.h"

namespace opendbs::engines::postgres {

// Creates `target` after the set's database entry `db`. A destination without the provider (before
// PostgreSQL 15, or 17 for builtin; built without ICU) or refusing its locale gets a libc default
// collation; one refusing the libc locale (not installed there) its own default locale, else C
// (which fits any encoding). Each such change is told to `control` as a warning. Sets from before the
// encoding was recorded get the destination's defaults, as they always did.
core::Status create_database(PgConnection& admin, const boost::json::object& db, const std::string& target,
                             TaskControl& control);

}  // namespace opendbs::engines::postgres
