// Constants of the repository format. docs/REPOSITORY.md is the specification; each constant names
// the section it comes from. Changing any value here changes the format (see the golden repository test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace opendbs::repo::format {

inline constexpr int kVersion = 1;                                    // §2
inline constexpr std::string_view kConfigName = "config";             // §1
inline constexpr std::string_view kConfigFormat = "opendbs-repository";  // §2
inline constexpr std::string_view kMasterKeyFormat = "opendbs-master-key";  // §3

// Object name prefixes (§1).
inline constexpr std::string_view kKeysPrefix = "keys/";
inline constexpr std::string_view kDataPrefix = "data/";
inline constexpr std::string_view kIndexPrefix = "index/";
inline constexpr std::string_view kSetsPrefix = "sets/";
inline constexpr std::string_view kLocksPrefix = "locks/";

// Key sizes (§3, §4).
inline constexpr size_t kKeySize = 32;
inline constexpr size_t kSaltSize = 32;
inline constexpr size_t kIdSize = 32;  // chunk ids and pack ids, raw bytes
inline constexpr int kScryptLogNDefault = 15;
inline constexpr int kScryptR = 8;
inline constexpr int kScryptP = 1;

// AAD strings (§3–§7).
inline constexpr std::string_view kSlotAad = "opendbs key slot v1 ";
inline constexpr std::string_view kBlobAad = "opendbs blob v1";
inline constexpr std::string_view kPackHeaderAad = "opendbs pack header v1";
inline constexpr std::string_view kIndexAad = "opendbs index v1";
inline constexpr std::string_view kManifestAad = "opendbs manifest v1 ";

// Sealed-object overhead: nonce + tag (§0).
inline constexpr size_t kSealOverhead = 12 + 16;

// Chunker (§4).
inline constexpr uint64_t kGearSeed = 0x6f70656e6462735fULL;
inline constexpr uint32_t kChunkMinDefault = 128 * 1024;
inline constexpr uint32_t kChunkAvgDefault = 512 * 1024;
inline constexpr uint32_t kChunkMaxDefault = 2 * 1024 * 1024;

// Blob compression kinds (§4).
enum class Compression : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };
inline constexpr int kZstdLevelDefault = 1;  // §4: measured by bench/repo/sweep

// Packs (§5).
inline constexpr std::string_view kPackMagic = "ODBSPK01";
inline constexpr size_t kPackEntrySize = 44;
inline constexpr size_t kPackTrailerSize = 4 + 8;  // header_len + magic
inline constexpr uint64_t kPackTargetDefault = 16 * 1024 * 1024;
inline constexpr uint64_t kPackTargetMax = 1024ULL * 1024 * 1024;

// Index files (§6).
inline constexpr std::string_view kIndexMagic = "ODBSIX01";

// Manifests (§7).
inline constexpr size_t kManifestChunkRecordSize = 32 + 4;
inline constexpr size_t kSetIdMaxLength = 128;

// Locks (§8).
inline constexpr int64_t kLockLeaseDefaultMs = 5 * 60 * 1000;

// Prune (§10): a pack is repacked when more than this fraction of its blob bytes is garbage.
inline constexpr double kRepackGarbageFraction = 0.5;

}  // namespace opendbs::repo::format
