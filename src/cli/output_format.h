// Printing API answers for people: JSON (indented) or a table of a list's items / an answer's fields.
#pragma once

#include <boost/json/object.hpp>
#include <string>

namespace opendbs::cli {

std::string pretty_json(const boost::json::value& value);
// Items.{Name:[...]} as columns; otherwise the answer's scalar fields as NAME VALUE rows.
std::string as_table(const boost::json::object& answer);

}  // namespace opendbs::cli
