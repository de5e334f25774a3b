// FaultInjectingBackend wraps a backend for crash tests: after a given number of mutating operations
// (put/remove) every further mutation fails — as if the writer had been killed at that point, since
// a put is atomic (all or nothing). Reads keep working so that the aftermath can be inspected.
#pragma once

#include <atomic>
#include <memory>

#include "repo/backend/backend.h"

namespace opendbs::repo {

class FaultInjectingBackend final : public Backend {
 public:
  // `mutations_allowed`: how many put/remove calls succeed before the first failure.
  FaultInjectingBackend(std::unique_ptr<Backend> inner, uint64_t mutations_allowed)
      : owned_(std::move(inner)), inner_(*owned_), allowed_(mutations_allowed) {}

  core::Status put(const std::string& name, std::string_view data) override;
  core::Result<std::string> get(const std::string& name) override { return inner_.get(name); }
  core::Result<std::string> get_range(const std::string& name, uint64_t offset, uint64_t length) override {
    return inner_.get_range(name, offset, length);
  }
  core::Result<std::optional<ObjectInfo>> stat(const std::string& name) override { return inner_.stat(name); }
  core::Result<std::vector<ObjectInfo>> list(const std::string& prefix) override { return inner_.list(prefix); }
  core::Status remove(const std::string& name) override;
  std::string describe() const override { return "faulty(" + inner_.describe() + ")"; }

  uint64_t mutations() const { return done_; }
  bool tripped() const { return done_ > allowed_; }

 private:
  core::Status count(const std::string& op, const std::string& name);
  std::unique_ptr<Backend> owned_;
  Backend& inner_;
  const uint64_t allowed_;
  std::atomic<uint64_t> done_{0};
};

}  // namespace opendbs::repo
