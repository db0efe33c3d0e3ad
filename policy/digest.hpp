// Statement digests for the audit log: the statement with its literals taken out,
// so that DBAs can group statements that differ only in their values, the way
// they group performance_schema's DIGEST_TEXT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/types.hpp"

namespace djproxy::policy {

// Longest digest text returned, in bytes; a longer digest ends with " ...".
inline constexpr std::size_t kDigestMaxText = 1024;
// Bytes of the statement read at most: the digest of a huge statement (a blob
// INSERT) is the digest of its beginning, and costs the same whatever its size.
inline constexpr std::size_t kDigestMaxInput = 256 * 1024;

// The statement as the server reads it under `state` (sql_mode, character set,
// version): literals become `?` (charset introducers and signs included),
// comments are dropped, keywords upper case, identifiers as written (quoted ones
// keep their quotes), tokens joined by single spaces, `IN (?, ?)` becomes
// `IN (...)` and a VALUES list of several rows becomes its first row and `, ...`.
// `sql` may be the leading part of a statement: a literal cut off at the end
// becomes `?`. Never fails; on text the lexer cannot read, the digest ends there.
std::string digest_text(std::string_view sql, const SessionState& state);

// 64-bit FNV-1a of the digest text: stable across builds and machines, so the
// same statement shape has the same id in every proxy's audit log.
std::uint64_t digest_hash(std::string_view digest_text) noexcept;

}  // namespace djproxy::policy
