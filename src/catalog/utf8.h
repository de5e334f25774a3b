// Valid UTF-8 for catalog documents. A record's document is JSON, and JSON text is UTF-8: one string
// with a stray byte (a PostgreSQL message quoting a LATIN1 name, an identifier cut inside a character)
// would make the whole record unreadable. So every string that enters a document, key or value, is
// made valid UTF-8 at the store's edge (catalog/sqlite writes and reads through these functions).
//
// Each byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) becomes the four visible characters `\xNN` (upper-case hex),
// so "permission denied for database caf\xE9" still names the object and shows the byte it had.
// Valid text, including a literal backslash, is kept exactly.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace opendbs::catalog {

bool is_valid_utf8(std::string_view text);

// `text` with every byte outside a well-formed sequence written as `\xNN`.
std::string to_valid_utf8(std::string_view text);

// Rewrites, in place and recursively, every key and string value of `value` that is not valid UTF-8.
// Returns true when anything changed.
bool make_valid_utf8(boost::json::value& value);
bool make_valid_utf8(boost::json::object& object);

}  // namespace opendbs::catalog
