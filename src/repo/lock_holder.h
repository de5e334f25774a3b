// Who holds a repository lock, and whether that process is gone (docs/REPOSITORY.md §8).
//
// A lock's lease only tells a stalled holder from a live one after the lease runs out (5 minutes by
// default). When the holder ran on this machine, its death can be seen at once: a process killed with
// SIGKILL, by the OOM killer or a cron timeout leaves its lock behind, and every backup would wait out
// the lease although nothing holds the repository. The holder is identified by the kernel's boot id,
// the PID namespace and the pid with the process's start time, so that neither a reboot, nor a
// container with the same host name, nor a new process that got the same pid passes for the holder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace opendbs::repo {

struct LockHolder {
  std::string host;
  int64_t pid = 0;
  std::string boot_id;      // /proc/sys/kernel/random/boot_id; empty when unknown
  std::string pid_ns;       // the target of /proc/self/ns/pid, e.g. "pid:[4026531836]"; empty when unknown
  int64_t start_ticks = 0;  // field 22 of /proc/<pid>/stat: start time after boot, in clock ticks; 0 = unknown
};

// This process, as its locks record it.
LockHolder this_lock_holder();

// The start time (in clock ticks after boot) of process `pid` while it runs; nullopt when there is no
// such process or it has exited (a zombie waiting for its parent holds nothing) or /proc cannot tell.
std::optional<int64_t> process_start_ticks(int64_t pid);

// True only when `holder` certainly ran on this machine, in this PID namespace, since this boot, and
// that process no longer exists (or the pid now belongs to a process started at another time). A lock
// of another host, or one without the identity fields (older writers), is never judged here.
bool lock_holder_is_gone(const LockHolder& holder);

}  // namespace opendbs::repo
