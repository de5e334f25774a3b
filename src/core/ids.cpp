#include "core/ids.h"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

namespace opendbs::core {
namespace {

void fill_random(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

std::string random_from(std::string_view alphabet, size_t length) {
  std::string out(length, '\0');
  unsigned char buf[64];
  size_t i = 0;
  while (i < length) {
    fill_random(buf, sizeof buf);
    for (unsigned char b : buf) {
      // Rejection sampling keeps the distribution uniform.
      const unsigned limit = 256 - 256 % alphabet.size();
      if (b >= limit) continue;
      out[i++] = alphabet[b % alphabet.size()];
      if (i == length) break;
    }
  }
  return out;
}

}  // namespace

std::string random_alnum(size_t length) { return random_from("abcdefghijklmnopqrstuvwxyz0123456789", length); }
std::string new_plan_id() { return "dbs" + random_alnum(11); }
std::string new_job_id() { return random_alnum(12); }

std::string new_request_id() {
  unsigned char b[16];
  fill_random(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string new_account_id() { return random_from("123456789", 1) + random_from("0123456789", 15); }

}  // namespace opendbs::core
