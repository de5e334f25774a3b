// The WAL files a restored server's recovery reads, written from the repository: segments (whole, or
// a partial one zero-padded), and timeline history files; and what `opendbs wal-fetch`, the
// restore_command, serves of them (docs/POSTGRES.md, "Where recovery gets the WAL").
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "repo/repository.h"

namespace opendbs::engines::postgres {

// Streams `set_id`'s segment into `path` through a temporary file beside it, fsynced and renamed,
// after checking its first page header against `name`. `pad`: the set is a partial segment; zeroes
// fill it to the segment's size, where recovery finds the end of the WAL. Without `pad` the set must
// hold the whole segment.
core::Status write_wal_segment(repo::Repository& repository, const std::string& set_id, uint64_t segno,
                               uint64_t segment_size, const std::string& name, const std::string& path, bool pad);

// The recovery target timeline a restore whose last planned segment is `last` names when it does not
// say: that segment's timeline (1 for "none").
uint32_t default_restore_timeline(const std::string& last);

// Whether recovery of a restore with target timeline `timeline` and last planned segment `last`
// ("none" = no segment) may get the file `name`, judged from the names alone: a history file of any
// timeline from 2 on, or a segment not after `last` of a timeline not after `timeline`.
// fetch_wal_file then checks the segment's timeline against the stored history.
bool replays_wal_file(const std::string& name, const std::string& last, uint32_t timeline);

// What `opendbs wal-fetch` does for a restored server's restore_command: the WAL file `name` of the
// plan's log backup (set "log-<plan>-<name>"), verified — every chunk; for a segment also the size
// and the first page header against the name — and written durably to `path`. Served are the
// segments up to `last` (the last complete one the restore planned) on the timelines that the
// history of `timeline` (recovery_target_timeline) reads them from, so that recovery never replays
// beyond what the restore chose even while the log backup goes on storing more; and every stored
// history file: those of `timeline`'s ancestors recovery reads, the others it probes for when it
// picks the timeline it promotes to — the first number it finds no history file of, so never one
// the plan already holds, even when the restored server becomes the plan's source again (a
// point-in-time recovery of the source). false: the restore does not replay `name`, or it is a
// history file that is not stored. A planned segment the repository no
// longer holds is an error: recovery must stop rather than promote short of its target.
core::Result<bool> fetch_wal_file(repo::Repository& repository, const std::string& plan_id, const std::string& name,
                                  const std::string& last, uint32_t timeline, const std::string& path);

}  // namespace opendbs::engines::postgres
