// Helpers shared by the operation families: loading an account's plan, the public view of a record,
// paging, and the validators for DBS's structured parameters.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/operation.h"
#include "catalog/store.h"

namespace opendbs::api::ops {

// The caller's plan, or InvalidJobId naming the id (plans of other accounts do not exist for the caller).
core::Result<catalog::Record> load_plan(catalog::Tx& tx, const Context& ctx, const std::string& plan_id);

// A record's document without its private "_" fields: what Describe calls answer.
boost::json::object public_view(const boost::json::object& doc);

struct Page {
  int64_t num = 0;   // from 0
  int64_t size = 30;
};
Page page_of(const Context& ctx);
// {PageNum, PageSize, TotalElements, TotalPages, Items: {item_name: items}}
boost::json::object page_answer(const Page& page, int64_t total, const std::string& item_name,
                                boost::json::array items);

// One page of records that belong to plans (sets, restores, downloads): `query` with the page of the
// request applied; the plan named by BackupPlanId must be the caller's, and records of released plans
// are left out. Answers page_answer(...) with each record's public view.
core::Result<boost::json::object> list_plan_records(const Context& ctx, catalog::Query query,
                                                    const std::string& item_name);

// ASCII lower case: enumerations are matched case-insensitively and some are answered in lower case.
std::string lower(std::string s);
// The non-empty items of a comma-separated parameter ("a,b" → {a, b}).
std::vector<std::string> split_list(const std::string& s);

// Epoch ms from a request timestamp; values below 10^11 are taken as seconds (api-reference.md §1).
int64_t to_ms(int64_t value);

// Validators: ok, or InvalidParameterValid naming the parameter and the expected form.
core::Status check_backup_period(const std::string& name, const std::string& value);   // Monday,...
core::Status check_start_time(const std::string& name, const std::string& value);      // HH:mm
core::Status check_backup_objects(const std::string& name, const std::string& value);  // JSON list
core::Status check_restore_objects(const std::string& name, const std::string& value); // JSON list
// 400 InvalidParameter naming `name` when `value` holds a NUL byte (a name or a path would end there).
core::Status check_no_nul(const std::string& name, std::string_view value);
core::Status check_storage_periods(int64_t retention, int64_t ia, int64_t archive);
// Canonical weekday spelling: "monday,SUNDAY" → "Monday,Sunday".
std::string normalize_period(const std::string& value);

}  // namespace opendbs::api::ops
