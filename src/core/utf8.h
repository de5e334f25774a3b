// Valid UTF-8 for JSON text: catalog documents and API answers. One string with a stray byte (a
// PostgreSQL message quoting a LATIN1 name, an identifier cut inside a character) would make a whole
// catalog record unreadable, or an answer that no JSON client reads. So every string that enters a
// catalog document, key or value, is made valid UTF-8 at the store's edge (catalog/sqlite writes and
// reads through these functions); API parameters must be valid UTF-8 (api/request_decoder.cpp); and
// text cut to a length is cut between characters (utf8_prefix).
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

namespace opendbs::core {

bool is_valid_utf8(std::string_view text);

// `text` with every byte outside a well-formed sequence written as `\xNN`.
std::string to_valid_utf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a well-formed
// sequence: a cut that keeps valid text valid.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

// Rewrites, in place and recursively, every key and string value of `value` that is not valid UTF-8.
// Returns true when anything changed.
bool make_valid_utf8(boost::json::value& value);
bool make_valid_utf8(boost::json::object& object);

}  // namespace opendbs::core
