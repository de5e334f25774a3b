#include "http/tls_certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/file.h"
#include "core/ids.h"

namespace opendbs::http {
namespace {

class SelfSignedCertificate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("opendbs-tls-" + core::random_alnum(8))).string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static X509* load_cert(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return nullptr;
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    return cert;
  }

  std::string dir_;
};

TEST_F(SelfSignedCertificate, IsMadeOnFirstCallWithPrivateKeyMode0600) {
  auto paths = ensure_self_signed_certificate(dir_);
  ASSERT_TRUE(paths.ok()) << paths.error().message;
  EXPECT_EQ(paths->first, dir_ + "/tls/cert.pem");
  EXPECT_EQ(paths->second, dir_ + "/tls/key.pem");
  struct stat st {};
  ASSERT_EQ(::stat(paths->second.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = core::read_file(paths->second);
  ASSERT_TRUE(key.ok());
  EXPECT_NE(key->find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
}

TEST_F(SelfSignedCertificate, NamesLocalhostAndLoopbackAddressesForTenYears) {
  auto paths = ensure_self_signed_certificate(dir_);
  ASSERT_TRUE(paths.ok()) << paths.error().message;
  X509* cert = load_cert(paths->first);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "example.com", 0, 0, nullptr), 0);

  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
  EXPECT_GE(days, 3650);
  EXPECT_LE(days, 3651);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0) << "valid from now";

  // Self-signed: it verifies with its own public key, and a store trusting it accepts it.
  EVP_PKEY* key = X509_get0_pubkey(cert);
  EXPECT_EQ(X509_verify(cert, key), 1);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(ctx), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
}

TEST_F(SelfSignedCertificate, ExistingFilesAreKeptOnLaterCalls) {
  auto first = ensure_self_signed_certificate(dir_);
  ASSERT_TRUE(first.ok());
  auto cert_before = core::read_file(first->first);
  auto key_before = core::read_file(first->second);
  auto second = ensure_self_signed_certificate(dir_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*core::read_file(second->first), *cert_before);
  EXPECT_EQ(*core::read_file(second->second), *key_before);
}

TEST_F(SelfSignedCertificate, AMissingKeyMakesANewPair) {
  auto first = ensure_self_signed_certificate(dir_);
  ASSERT_TRUE(first.ok());
  auto cert_before = core::read_file(first->first);
  std::filesystem::remove(first->second);
  auto second = ensure_self_signed_certificate(dir_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(std::filesystem::exists(second->second));
  EXPECT_NE(*core::read_file(second->first), *cert_before);
}

TEST_F(SelfSignedCertificate, UnwritableDirectoryIsAnError) {
  auto result = ensure_self_signed_certificate("/proc/opendbs-cannot-write-here");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("/proc/opendbs-cannot-write-here"), std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace opendbs::http
