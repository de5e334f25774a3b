#include "http/tls_certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <ctime>
#include <filesystem>
#include <memory>

#include "core/errors.h"
#include "core/file.h"

namespace opendbs::http {
namespace {

constexpr int kValidityDays = 3650;

template <class T, void (*Free)(T*)>
struct OpensslDeleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpensslDeleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslDeleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OpensslDeleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslDeleter<BIGNUM, BN_free>>;

core::Error openssl_error(const std::string& what) {
  char text[256] = "unknown error";
  if (unsigned long code = ERR_get_error()) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return core::errors::internal("cannot make the self-signed TLS certificate: " + what + ": " + text);
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

std::string subject_alt_names() {
  std::string names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  const std::string host = host_name();
  // A host name with characters outside a DNS label would make the whole extension invalid.
  bool plain = !host.empty() && host != "localhost";
  for (char c : host) plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  if (plain) names += ",DNS:" + host;
  return names;
}

core::Status add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) return openssl_error("extension " + value);
  return core::ok_status();
}

core::Status set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return openssl_error("serial number");
  bytes[0] &= 0x7f;  // a positive serial number
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) return openssl_error("serial number");
  return core::ok_status();
}

core::Result<X509Ptr> make_certificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return openssl_error("X509_new");
  OPENDBS_TRY(set_random_serial(cert.get()));
  time_t now = std::time(nullptr);
  // Backdated an hour so that a client whose clock is a little behind still accepts it.
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -3600, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidityDays, 0, &now))
    return openssl_error("validity");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("opendbs self-signed");
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("opendbs"),
                                 -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1)
    return openssl_error("subject");
  // No keyUsage extension: OpenSSL treats a self-signed certificate whose keyUsage lacks keyCertSign
  // as not self-issued, and clients that pin this file as their CA would then reject it.
  OPENDBS_TRY(add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  OPENDBS_TRY(add_extension(cert.get(), NID_subject_key_identifier, "hash"));
  OPENDBS_TRY(add_extension(cert.get(), NID_ext_key_usage, "serverAuth"));
  OPENDBS_TRY(add_extension(cert.get(), NID_subject_alt_name, subject_alt_names()));
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return openssl_error("signing");
  return cert;
}

// Runs `write` against a memory BIO and returns what it wrote.
template <class Write>
core::Result<std::string> to_pem(Write write, const std::string& what) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return openssl_error(what);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

core::Result<std::pair<std::string, std::string>> ensure_self_signed_certificate(const std::string& data_dir) {
  const std::string dir = data_dir + "/tls";
  std::pair<std::string, std::string> paths{dir + "/cert.pem", dir + "/key.pem"};
  std::error_code ec;
  if (std::filesystem::exists(paths.first, ec) && std::filesystem::exists(paths.second, ec)) return paths;

  OPENDBS_TRY(core::make_dirs(dir, 0700));
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("EC P-256 key");
  OPENDBS_ASSIGN(X509Ptr cert, make_certificate(key.get()));
  OPENDBS_ASSIGN(std::string key_pem, to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }, "PEM key"));
  OPENDBS_ASSIGN(std::string cert_pem, to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); },
                                              "PEM certificate"));
  OPENDBS_TRY(core::write_file_durable(paths.second, key_pem, 0600));
  OPENDBS_TRY(core::write_file_durable(paths.first, cert_pem, 0644));
  return paths;
}

}  // namespace opendbs::http
