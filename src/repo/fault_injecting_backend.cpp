#include "repo/fault_injecting_backend.h"

#include "core/errors.h"

namespace opendbs::repo {

core::Status FaultInjectingBackend::count(const std::string& op, const std::string& name) {
  if (++done_ > allowed_)
    return core::errors::io("injected fault: " + op + " " + name + " after " + std::to_string(allowed_) +
                            " mutations");
  return {};
}

core::Status FaultInjectingBackend::put(const std::string& name, std::string_view data) {
  OPENDBS_TRY(count("put", name));
  return inner_.put(name, data);
}

core::Status FaultInjectingBackend::remove(const std::string& name) {
  OPENDBS_TRY(count("remove", name));
  return inner_.remove(name);
}

}  // namespace opendbs::repo
