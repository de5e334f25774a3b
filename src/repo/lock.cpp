#include "repo/lock.h"

#include <string_view>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "core/errors.h"
#include "core/log.h"
#include "repo/format.h"
#include "repo/lock_holder.h"

namespace opendbs::repo {
namespace json = boost::json;
namespace {

struct LockRecord {
  std::string name;
  std::string kind;
  LockHolder holder;
  std::string purpose;
  int64_t expires_ms = 0;
  bool holder_gone = false;  // its process on this machine no longer exists: stale whatever the lease says

  bool stale(int64_t now_ms) const { return holder_gone || expires_ms <= now_ms; }
};

std::string string_or_empty(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int64_t int_or_zero(const json::object& o, const char* name) {
  const auto* v = o.if_contains(name);
  return v && v->is_int64() ? v->as_int64() : 0;
}

// Every lock object; an unreadable one (a lock being written by a non-atomic backend would never
// be seen, so this is damage) counts as live so that nobody proceeds on doubt.
core::Result<std::vector<LockRecord>> list_locks(Backend& backend) {
  OPENDBS_ASSIGN(auto objects, backend.list(std::string(format::kLocksPrefix)));
  std::vector<LockRecord> out;
  for (const auto& obj : objects) {
    auto text = backend.get(obj.name);
    if (!text.ok()) {
      if (text.error().code == "NotFound") continue;  // released meanwhile
      return text.error();
    }
    boost::system::error_code ec;
    auto v = json::parse(*text, ec);
    LockRecord r;
    r.name = obj.name;
    r.kind = "exclusive";
    r.holder.host = "?";
    r.purpose = "unreadable lock";
    r.expires_ms = INT64_MAX;
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      if (const auto* k = o.if_contains("kind"); k && k->is_string()) r.kind = std::string(k->as_string());
      if (const auto* p = o.if_contains("purpose"); p && p->is_string()) r.purpose = std::string(p->as_string());
      r.holder = LockHolder{string_or_empty(o, "host"), int_or_zero(o, "pid"), string_or_empty(o, "boot_id"),
                            string_or_empty(o, "pid_ns"), int_or_zero(o, "start_ticks")};
      r.expires_ms = int_or_zero(o, "expires_ms");
      r.holder_gone = lock_holder_is_gone(r.holder);
    }
    out.push_back(std::move(r));
  }
  return out;
}

// The first live lock (not ours) that conflicts with taking `kind`, if any.
std::optional<LockRecord> find_conflict(const std::vector<LockRecord>& locks, LockKind kind,
                                        const std::string& own_name, int64_t now_ms) {
  for (const auto& l : locks) {
    if (l.name == own_name || l.stale(now_ms)) continue;
    if (kind == LockKind::kExclusive || l.kind == "exclusive") return l;
  }
  return std::nullopt;
}

constexpr std::string_view kLockedMessage = "repository is locked";

core::Error locked_error(const LockRecord& l) {
  return core::make_error("ServiceUnavailable",
                          std::string(kLockedMessage) + " (" + l.kind + ") by " + l.holder.host + " pid " + std::to_string(l.holder.pid) +
                              " for \"" + l.purpose + "\"; retry when it finishes (stale locks expire with their lease)");
}

// Removes the locks whose holder died on this machine (kill -9, OOM): without this, every backup would
// wait out their lease. Said in the log, so that an operator sees whose lock it was.
core::Result<size_t> remove_dead_holders_locks(Backend& backend, const std::vector<LockRecord>& locks) {
  size_t removed = 0;
  for (const auto& l : locks) {
    if (!l.holder_gone) continue;
    OPENDBS_TRY(backend.remove(l.name));
    core::log_event(core::LogLevel::warn, "repo_stale_lock_removed",
                    {{"Lock", l.name}, {"Kind", l.kind}, {"Host", l.holder.host}, {"Pid", l.holder.pid},
                     {"Purpose", l.purpose}, {"Reason", "its process no longer exists on this host"}});
    ++removed;
  }
  return removed;
}

}  // namespace

bool locked_by_another(const core::Error& e) {
  return e.code == "ServiceUnavailable" && e.message.find(kLockedMessage) != std::string::npos;
}

RepoLock::RepoLock(Backend& backend, LockKind kind, std::string purpose, int64_t lease_ms, const core::Clock& clock)
    : backend_(backend),
      kind_(kind),
      purpose_(std::move(purpose)),
      lease_ms_(lease_ms),
      clock_(clock),
      lock_id_(core::to_hex(core::random_bytes(16))) {}

core::Result<std::unique_ptr<RepoLock>> RepoLock::acquire(Backend& backend, LockKind kind, std::string purpose,
                                                          int64_t lease_ms, const core::Clock& clock) {
  std::unique_ptr<RepoLock> lock(new RepoLock(backend, kind, std::move(purpose), lease_ms, clock));
  const std::string own = std::string(format::kLocksPrefix) + lock->lock_id_;
  OPENDBS_ASSIGN(auto before, list_locks(backend));
  OPENDBS_TRY(remove_dead_holders_locks(backend, before));
  if (auto c = find_conflict(before, kind, own, clock.now_ms())) return locked_error(*c);
  lock->created_ms_ = clock.now_ms();
  OPENDBS_TRY(lock->write());
  // Someone may have written a conflicting lock between our list and our write: look again.
  auto after = list_locks(backend);
  std::optional<LockRecord> conflict;
  if (after.ok()) conflict = find_conflict(*after, kind, own, clock.now_ms());
  if (!after.ok() || conflict) {
    (void)backend.remove(own);
    lock->stop_ = true;  // no renewer started; the destructor must not remove twice
    return after.ok() ? locked_error(*conflict) : after.error();
  }
  lock->renewer_ = std::thread([l = lock.get()] { l->renew_loop(); });
  return lock;
}

core::Status RepoLock::write() {
  const int64_t start = clock_.now_ms();
  const LockHolder me = this_lock_holder();
  json::object o{{"version", format::kVersion},
                 {"lock_id", lock_id_},
                 {"kind", kind_ == LockKind::kExclusive ? "exclusive" : "shared"},
                 {"host", me.host},
                 {"pid", me.pid},
                 {"purpose", purpose_},
                 {"created_ms", created_ms_},
                 {"expires_ms", start + lease_ms_}};
  if (!me.boot_id.empty() && !me.pid_ns.empty() && me.start_ticks > 0) {
    o["boot_id"] = me.boot_id;
    o["pid_ns"] = me.pid_ns;
    o["start_ticks"] = me.start_ticks;
  }
  OPENDBS_TRY(backend_.put(std::string(format::kLocksPrefix) + lock_id_, json::serialize(o)));
  // A renewal that lands after the previous lease ran out does not revive the lock: prune may have run.
  if (valid_until_ms_.load() != 0 && start >= valid_until_ms_.load()) lapsed_ = true;
  valid_until_ms_ = start + lease_ms_;
  return {};
}

void RepoLock::renew_loop() {
  std::unique_lock lk(mutex_);
  while (!stop_cv_.wait_for(lk, std::chrono::milliseconds(lease_ms_ / 3), [this] { return stop_; })) {
    lk.unlock();
    (void)write();  // a failed renewal shows in held() once the lease runs out
    lk.lock();
  }
}

bool RepoLock::held() const { return !lapsed_ && clock_.now_ms() < valid_until_ms_.load(); }

RepoLock::~RepoLock() {
  {
    std::lock_guard lk(mutex_);
    if (stop_ && !renewer_.joinable()) return;  // acquisition backed off and cleaned up already
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  (void)backend_.remove(std::string(format::kLocksPrefix) + lock_id_);
}

core::Result<size_t> remove_stale_locks(Backend& backend, const core::Clock& clock) {
  OPENDBS_ASSIGN(auto locks, list_locks(backend));
  OPENDBS_ASSIGN(size_t removed, remove_dead_holders_locks(backend, locks));
  for (const auto& l : locks) {
    if (l.holder_gone || l.expires_ms > clock.now_ms()) continue;
    OPENDBS_TRY(backend.remove(l.name));
    ++removed;
  }
  return removed;
}

}  // namespace opendbs::repo
