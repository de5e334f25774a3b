// Download links: the files download tasks write to DATA_DIR/downloads/ and the expiring, signed URLs
// the node serves them at (docs/POSTGRES.md, "Downloads"):
//
//   /downloads/<task id>/<name>?Expires=<unix seconds>&Signature=<hex HMAC-SHA256>
//
// The signature covers the path and Expires, with a key derived from the node's master key, so links
// survive restarts, cannot be forged or re-pointed, and stop working at Expires. <name> is what the
// browser saves (e.g. s102h7rf5anq.sql, 000000010000000000000003); its extension, everything after
// its first '.', is the extension of the file on disk: DATA_DIR/downloads/<task id>[.<extension>].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace opendbs::jobs {

// The purpose string the signing key is derived with (iam::SecretBox::derive_key).
inline constexpr std::string_view kDownloadKeyPurpose = "opendbs download links v1";

struct DownloadTarget {
  std::string file;  // absolute path of the file on disk
  std::string name;  // the name to save it under (Content-Disposition)
};

class DownloadLinks {
 public:
  DownloadLinks(std::string key, std::string dir) : key_(std::move(key)), dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  // DATA_DIR/downloads/<task id>[.<extension>] for a download named `name`.
  std::string file_for(const std::string& task_id, const std::string& name) const;
  // "/downloads/<task id>/<name>?Expires=...&Signature=..."; `name` must be [A-Za-z0-9_-] parts joined by '.'.
  std::string signed_path(const std::string& task_id, const std::string& name, int64_t expires_s) const;
  // Checks a request target against its signature and expiry; "Request.Forbidden" when the link was
  // tampered with or has expired, "NotFound" when it is not a download path at all.
  core::Result<DownloadTarget> verify(std::string_view target, int64_t now_s) const;

 private:
  std::string signature(std::string_view path, std::string_view expires) const;

  std::string key_, dir_;
};

}  // namespace opendbs::jobs
