#include "repo/lock_holder.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

namespace opendbs::repo {
namespace {

std::string host_name() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string("unknown");
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string pid_namespace() {
  char buf[64] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// The fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parentheses,
// hence the last ')'): [0] is the state, [19] the start time.
std::optional<std::vector<std::string>> stat_fields(int64_t pid) {
  const std::string text = first_line(("/proc/" + std::to_string(pid) + "/stat").c_str());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 20) return std::nullopt;
  return fields;
}

}  // namespace

std::optional<int64_t> process_start_ticks(int64_t pid) {
  if (pid <= 0) return std::nullopt;
  auto fields = stat_fields(pid);
  if (!fields || (*fields)[0] == "Z" || (*fields)[0] == "X") return std::nullopt;
  try {
    return std::stoll((*fields)[19]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

LockHolder this_lock_holder() {
  const int64_t pid = ::getpid();
  return LockHolder{host_name(), pid, first_line("/proc/sys/kernel/random/boot_id"), pid_namespace(),
                    process_start_ticks(pid).value_or(0)};
}

bool lock_holder_is_gone(const LockHolder& holder) {
  if (holder.pid <= 0 || holder.boot_id.empty() || holder.pid_ns.empty() || holder.start_ticks <= 0) return false;
  const LockHolder me = this_lock_holder();
  if (me.boot_id.empty() || me.pid_ns.empty()) return false;
  if (holder.host != me.host || holder.boot_id != me.boot_id || holder.pid_ns != me.pid_ns) return false;
  if (::kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno == ESRCH) return true;
  // The pid exists (or kill was not permitted): it is the holder only if it started when the holder did.
  const auto start = process_start_ticks(holder.pid);
  if (!start) {
    const auto fields = stat_fields(holder.pid);
    if (fields && ((*fields)[0] == "Z" || (*fields)[0] == "X")) return true;  // exited, only not yet reaped
    return ::access(("/proc/" + std::to_string(holder.pid)).c_str(), F_OK) != 0;  // exited meanwhile; else doubt
  }
  return *start != holder.start_ticks;
}

}  // namespace opendbs::repo
