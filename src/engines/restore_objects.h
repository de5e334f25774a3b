// Rules of RestoreObjects (DBS's list of databases and tables a restore renames) that hold for every
// engine. The API applies them when a restore task is created (api/ops/common.cpp), and an engine
// applies them again before it writes anything, since it may be driven without the API.
#pragma once

#include <string>
#include <string_view>

#include "core/errors.h"

namespace opendbs::engines {

// A renamed table keeps its schema (or database), so NewTableName is the bare new name: a dot in it is
// refused rather than taken for a move or created as a name holding a dot. `param` names the
// parameter in the message ("RestoreObjects").
inline core::Status check_new_table_name(std::string_view param, std::string_view table, std::string_view new_name) {
  if (new_name.find('.') == std::string_view::npos) return {};
  return core::make_error("InvalidParameter", std::string(param) + ": NewTableName \"" + std::string(new_name) +
                                                  "\" of table " + std::string(table) +
                                                  " holds a dot; a renamed table keeps its schema, so NewTableName "
                                                  "is the bare new name");
}

}  // namespace opendbs::engines
