// Percent-encoding as Alibaba Cloud's RPC signatures define it (shared/dbs/protocol.md §4 step 2), and
// decoding of application/x-www-form-urlencoded text as clients put it on the wire.
//
// The two are deliberately not inverses: clients encode loosely (Tea leaves `!'()*` literal, form
// bodies use `+` for space), so the server decodes whatever arrived and re-encodes canonically.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace opendbs::api {

using ParamList = std::vector<std::pair<std::string, std::string>>;

// Encodes the bytes of `text` (UTF-8): `A-Z a-z 0-9 - _ . ~` stay literal, every other byte becomes
// `%XX` with upper-case hex. Space is `%20`, never `+`.
std::string percent_encode(std::string_view text);

// Decodes `%XX` escapes (either hex case) and, when `plus_is_space`, `+` as a space. A `%` not
// followed by two hex digits is a BadRequest error that quotes the offending text.
core::Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Parses `name=value&name2=value2` in wire order, `+` meaning space. Empty segments (`a=1&&b=2`, a
// trailing `&`) are skipped; a segment without `=` is a name with an empty value. Duplicate names are
// kept: deciding what they mean is the caller's job.
core::Result<ParamList> parse_urlencoded(std::string_view text);

}  // namespace opendbs::api
