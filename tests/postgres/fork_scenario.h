// A source taken back to an earlier moment: a point-in-time recovery of the source itself, with
// opendbs, into its own data directory, after which it carries on as the plan's source. Its new
// timeline forks from WAL the log backup had already stored beyond that point. Shared by
// wal_fork_test.cpp (Debian's PostgreSQL 15) and pg_versions_fork_test.cpp (every version 12-17).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "own_source.h"

namespace opendbs::testing {

class SourceForkTest : public OwnSourceTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The accounts table, a log backup streaming from the source (runner_) and the full set
  // "<plan>-full" taken while it runs.
  void begin_backups(const engines::PlanSpec& p);
  // Runs `sql` and records the moment after it, with the table's checksum then.
  void change(const std::string& sql, const std::string& moment);
  void remember(const std::string& moment);
  // What an operator does to take the source back to `target_ms`: stop it, restore the plan's full
  // set into its own data directory (a delta restore) and start it there. Recovery promotes it to a
  // new timeline; it keeps its port, system identifier and the plan.
  // `down`: a moment to remember while the source is stopped, holding what it held last.
  void restore_source_to(const engines::PlanSpec& p, const std::string& set_id, int64_t target_ms,
                         const std::string& down = "");
  // Closes the segment being written (after writing something, so that there is one) and waits
  // until the log backup stored it whole.
  void store_segment();
  // Restores `set_id` to each moment, on the source's version, and compares the table with the
  // source's checksum then.
  void expect_restores(const engines::PlanSpec& p, const std::string& set_id, const std::vector<std::string>& names);

  // Timeline 1 goes on for two more segments after the moment the source is taken back to
  // ("fork"); timeline 2 forks there, and the log backup follows it until timeline 2 passed the
  // segment number of timeline 1's last, partial, segment. Checks what the stream stored and records
  // the moments: before the fork ("before-fork"), on the abandoned branch of timeline 1
  // ("abandoned-1", "abandoned-2", "abandoned-end", "idle"), while the source was down ("down"),
  // after the promotion, before and after timeline 2's first transaction ("promoted", "timeline-2",
  // "timeline-2-later").
  void fork_and_carry_on(const engines::PlanSpec& p);

  std::unique_ptr<LogBackupRunner> runner_;
  std::map<std::string, std::pair<int64_t, std::string>> moments_;  // name → (unix ms, checksum)
};

}  // namespace opendbs::testing
