// Result<T> and Status: how every fallible operation in opendbs reports failure.
//
// Errors from the outside world (bad input, a missing file, a refused connection) are values, never
// exceptions; exceptions thrown by libraries are caught at the module edge and turned into an Error.
// Bugs are asserts. An Error carries a stable code from errors.h, the HTTP status the API answers
// with, and a message for a human that names the parameter, file or object concerned.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace opendbs::core {

struct Error {
  std::string code;     // stable, machine-readable (e.g. "InvalidParameterValid")
  int http_status = 500;
  std::string message;  // for a human; names what was wrong and, where it helps, what to do

  // A copy with `context + ": "` in front of the message, for errors passed up through layers.
  Error with_context(const std::string& context) const {
    return Error{code, http_status, context + ": " + message};
  }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}    // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Status is Result<void>: success, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Status ok_status() { return Status(); }

}  // namespace opendbs::core

// Propagates a failed Status or Result out of the enclosing function.
#define OPENDBS_TRY(expr)                                   \
  do {                                                      \
    auto&& opendbs_try_ = (expr);                           \
    if (!opendbs_try_.ok()) return opendbs_try_.error();    \
  } while (0)

#define OPENDBS_CONCAT_INNER(a, b) a##b
#define OPENDBS_CONCAT(a, b) OPENDBS_CONCAT_INNER(a, b)
// Declares `decl` from the value of a Result, or returns its error.
#define OPENDBS_ASSIGN(decl, expr) OPENDBS_ASSIGN_IMPL(OPENDBS_CONCAT(opendbs_r_, __LINE__), decl, expr)
#define OPENDBS_ASSIGN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return tmp.error();         \
  decl = std::move(tmp).value()
