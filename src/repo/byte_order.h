// Little-endian integer encoding used by every binary layout of docs/REPOSITORY.md.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace opendbs::repo {

inline void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}

inline uint32_t get_u32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace opendbs::repo
