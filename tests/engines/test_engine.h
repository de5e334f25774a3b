// TestEngine: a deterministic, cancellable byte producer behind the real engines::Engine interface, so
// the node's task semantics (StopBackupPlan, leases, restarts, restore) are proven before and apart
// from the real database engines. It is built only into the test tree's `opendbs-test-node`.
//
// The plan's SourceEndpointDatabaseName configures it: "size=BYTES;rate=BYTES_PER_SECOND;log_ms=MS"
// (defaults 8 MiB, 4 MiB/s, 500 ms), optionally ";warn=1" and ";deaf=1" (TestEngineConfig). Host "unreachable.invalid" fails the precheck and every backup.
// A full backup writes one stream "data" of `size` bytes derived from the plan id, at `rate`.
// The log backup closes a log file every `log_ms` until cancelled. A restore writes the set's streams
// into RestoreDir and checks every byte against the generator.
#pragma once

#include "engines/engine.h"

namespace opendbs::testing {

struct TestEngineConfig {
  uint64_t size = 8 << 20;
  uint64_t rate = 4 << 20;
  int64_t log_ms = 500;
  bool warn = false;  // a full backup that finishes with a warning
  bool deaf = false;  // a full backup that does not hear a cancellation (an engine stuck in a call)
  static TestEngineConfig parse(const std::string& text);
};

// The byte at `offset` of the stream generated for `seed` (cheap, deterministic).
char generated_byte(const std::string& seed, uint64_t offset);

class TestEngine final : public engines::Engine {
 public:
  std::vector<engines::PrecheckItem> precheck(const engines::PlanSpec& plan) override;
  core::Result<engines::FullBackupResult> full_backup(const engines::PlanSpec& plan, repo::SetWriter& set,
                                                      engines::TaskControl& control) override;
  core::Status log_backup(const engines::PlanSpec& plan, repo::Repository& repository, engines::TaskControl& control,
                          const std::function<core::Status(const engines::LogFile&)>& on_file) override;
  core::Status restore(const engines::PlanSpec& plan, repo::Repository& repository,
                       const engines::RestoreRequest& request, engines::TaskControl& control) override;
};

}  // namespace opendbs::testing
