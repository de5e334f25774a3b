// The node's default TLS identity: a self-signed certificate made on first start.
#pragma once

#include <string>
#include <utility>

#include "core/result.h"

namespace opendbs::http {

// Returns {cert_path, key_path} = {DATA_DIR/tls/cert.pem, DATA_DIR/tls/key.pem}. When either file is
// missing, first makes a new EC P-256 key and a self-signed certificate for it: valid 10 years,
// SubjectAltName localhost, 127.0.0.1, ::1 and this machine's host name. The key is written first
// (mode 0600) and the certificate last, each durably, so a crash never leaves a cert without its key.
// Existing files are used as they are, never replaced.
core::Result<std::pair<std::string, std::string>> ensure_self_signed_certificate(const std::string& data_dir);

}  // namespace opendbs::http
