#pragma once
// Signed migration tokens. A token carries everything a proxy needs to decide
// (scope, lifetime), so any number of proxies sharing the key accept it without
// shared state; revocation is by expiry and by rotating the key.
//
// Text form: djm1.<base64url(JSON payload)>.<base64url(HMAC-SHA256)>, no padding.
// The MAC covers "djm1." plus the payload part exactly as written, so the version
// tag cannot be swapped and the proxy never re-serializes before checking.
// Only [A-Za-z0-9._-] appear, so a token pasted between quotes in
// `SET @djproxy_migration = '...'` needs no escaping under any sql_mode.
//
// Time is passed in: the caller owns the clock, tests control it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace djproxy::migration {

class Ed25519Key;

inline constexpr std::string_view kTokenTag = "djm1";
// Ed25519 tokens: dje1.<base64url(JSON payload)>.<base64url(64-byte signature)>.
// The tag is signed too, so a token cannot be moved from one scheme to the other.
inline constexpr std::string_view kEd25519TokenTag = "dje1";
// HMAC-SHA256 is only as strong as its key; 32 bytes matches the hash size.
inline constexpr std::size_t kMinKeyBytes = 32;
// Proxies run on different hosts; this much disagreement between clocks is tolerated.
inline constexpr std::int64_t kClockSkewSeconds = 60;
// Bounds the work an unauthenticated client can make the proxy do per attempt.
inline constexpr std::size_t kMaxTokenChars = 4096;
inline constexpr std::size_t kMaxNoteBytes = 512;
inline constexpr std::size_t kMaxScopeEntries = 64;

struct MigrationToken {
  std::string id;                  // 128 random bits as 32 lowercase hex digits
  std::vector<std::string> scope;  // exact schema names, or a name ending in '*'
  std::int64_t issued_at = 0;      // unix seconds
  std::int64_t expires_at = 0;     // unix seconds; the token is dead from this second on
  std::string note;                // free text for the audit log (who, why)
  bool operator==(const MigrationToken&) const = default;
};

enum class TokenStatus {
  ok,
  malformed,
  bad_signature,
  expired,
  not_yet_valid,
  too_long_lived,
  scope_outside_prefix,
  weak_key,
};

std::string_view to_string(TokenStatus status);

struct TokenCheck {
  TokenStatus status = TokenStatus::malformed;
  // Set once the signature has been verified and the payload read, also when a
  // later check (expiry, lifetime, scope) fails, so the audit log can name the
  // token. Never set for malformed, bad_signature or weak_key.
  std::optional<MigrationToken> token;
  // One sentence for the client's ERR packet and the audit log.
  std::string message;
  bool ok() const { return status == TokenStatus::ok; }
};

// 16 bytes from RAND_bytes as hex. Throws std::runtime_error if the RNG fails.
std::string new_token_id();

// Signs the token. Throws std::invalid_argument when the key is shorter than
// kMinKeyBytes, the id is not 32 hex digits, the scope is empty or has an invalid
// pattern, expires_at <= issued_at, or the note is too long or not UTF-8: a proxy
// would refuse such a token, so it is never produced.
std::string issue(const MigrationToken& token, std::string_view key);
// The same with Ed25519; also throws std::invalid_argument for a public-only key.
std::string issue(const MigrationToken& token, const Ed25519Key& private_key);

// What a proxy verifies with: either or both. An HMAC token (djm1) is checked only
// with hmac_key, an Ed25519 one (dje1) only with public_key; a token whose scheme
// has no key here is refused (weak_key), never checked another way.
struct TokenKeys {
  std::string_view hmac_key;
  const Ed25519Key* public_key = nullptr;
};

// Checks, in this order: key strength, format, signature (nothing in the payload
// is read before it verifies), payload fields, expiry, issued_at at most
// kClockSkewSeconds ahead of `now`, lifetime <= max_ttl, every scope pattern
// inside `schema_prefix` (empty: no prefix configured, any pattern is inside).
TokenCheck verify(std::string_view text, std::string_view key, std::int64_t now, std::string_view schema_prefix,
                  std::chrono::seconds max_ttl);
TokenCheck verify(std::string_view text, const TokenKeys& keys, std::int64_t now, std::string_view schema_prefix,
                  std::chrono::seconds max_ttl);

// The payload without checking the signature, for `djproxy token inspect` to show
// what a token claims even when it does not verify. Never use it to authorize.
std::optional<MigrationToken> decode_unverified(std::string_view text);

// True when some pattern matches the schema: equal to it, or a 'name*' pattern of
// which the schema starts with 'name'. Byte-wise; callers fold case first when
// the server is case-insensitive.
bool scope_covers(const std::vector<std::string>& scope, std::string_view schema);

// A pattern is a non-empty schema name (at most 64 bytes, no control characters,
// no '*' or backquote) optionally followed by one '*', or '*' alone.
bool valid_pattern(std::string_view pattern);

// Every schema the pattern can match starts with the prefix.
bool pattern_inside_prefix(std::string_view pattern, std::string_view prefix);

// RFC 3339 in UTC, e.g. 2026-11-25T10:00:00Z.
std::string format_time(std::int64_t unix_seconds);

// Compact, hours the largest unit: 93600 → 26h, 90 → 1m30s, 0 → 0s.
std::string format_seconds(std::int64_t seconds);

}  // namespace djproxy::migration
