// Identifiers in the shapes DBS clients expect (api-reference.md §1, "ID shapes").
#pragma once

#include <cstdint>
#include <string>

namespace opendbs::core {

// `length` random characters from [a-z0-9], from a cryptographic source.
std::string random_alnum(size_t length);
std::string new_plan_id();     // "dbs" + 11 chars, e.g. dbs1hvb0wwk3n2
std::string new_job_id();      // 12 chars, for backup sets, restore, download and task ids
std::string new_request_id();  // upper-case UUID v4, e.g. 60AF7C5D-EF4D-4D48-8FD5-C0823FDF28AC
std::string new_account_id();  // 16 digits, not starting with 0

}  // namespace opendbs::core
