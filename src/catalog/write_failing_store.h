// Test support: a Store that forwards to another but, while told to, fails its writing calls the way a
// catalog on a full disk does ("database or disk is full"), while reads go on working: how a test makes
// lease renewals and outcomes (transactions) and task claims fail through the real Store interface.
// The two switch apart, so that a test can let claims through while renewals fail.
#pragma once

#include <atomic>

#include "catalog/store.h"
#include "core/errors.h"

namespace opendbs::catalog::testing {

class WriteFailingStore final : public Store {
 public:
  explicit WriteFailingStore(Store& inner) : inner_(inner) {}

  void fail_transactions(bool on) { transactions_fail_.store(on); }
  void fail_claims(bool on) { claims_fail_.store(on); }
  void fail_writes(bool on) {
    fail_transactions(on);
    fail_claims(on);
  }

  core::Status transact(const std::function<core::Status(Tx&)>& fn) override {
    if (transactions_fail_.load()) return full();
    return inner_.transact(fn);
  }
  core::Status read(const std::function<core::Status(Tx&)>& fn) override { return inner_.read(fn); }
  uint64_t change_counter(Kind kind) override { return inner_.change_counter(kind); }
  using Store::claim_next_task;
  core::Result<std::optional<Record>> claim_next_task(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                                      const Claimable& claimable) override {
    if (claims_fail_.load()) return full();
    return inner_.claim_next_task(owner, now_ms, lease_ms, claimable);
  }

 private:
  static core::Error full() { return core::errors::io("catalog: database or disk is full (injected by the test)"); }
  Store& inner_;
  std::atomic<bool> transactions_fail_{false}, claims_fail_{false};
};

}  // namespace opendbs::catalog::testing
