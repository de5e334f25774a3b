// The one table of error codes. It feeds the API's error envelope (code and HTTP status), the CLI's
// exit codes and docs/API.md. Add a code here, never a string literal at the call site.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::core {

struct ErrorKind {
  std::string_view code;
  int http_status;
  int exit_code;              // what `opendbs` client commands exit with when the node answers this
  std::string_view meaning;   // one line for docs/API.md
};

// Every code opendbs answers with, in a fixed order.
std::span<const ErrorKind> error_table();

// Looks up a code; unknown codes map to InternalError's row.
const ErrorKind& error_kind(std::string_view code);

// Builds an Error with the status of `code` from the table.
Error make_error(std::string_view code, std::string message);

namespace errors {
Error missing_parameter(std::string_view name);
Error invalid_parameter(std::string_view name, std::string_view value, std::string_view expected);
Error invalid_job_id(std::string_view id);
Error internal(std::string message);
Error io(std::string message);
Error not_found(std::string message);
Error corrupt(std::string message);
}  // namespace errors

}  // namespace opendbs::core
