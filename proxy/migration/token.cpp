#include "proxy/migration/token.hpp"

#include "proxy/migration/ed25519.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>
#include <variant>

namespace djproxy::migration {
namespace {

using json = nlohmann::json;
using Mac = std::array<unsigned char, 32>;

// 0001-01-01 is unreachable for a real token and 9999-12-31T23:59:59Z is the
// last second RFC 3339 can write; keeping times inside also keeps
// expires_at - issued_at far from overflow.
constexpr std::int64_t kLatestTime = 253402300799;
constexpr std::size_t kMaxSchemaNameBytes = 64;  // MySQL's identifier limit

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) | (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                      std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) | (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: no padding, and the unused low bits of the last character must be zero.
// Otherwise several spellings decode to the same bytes, and flipping a character
// of a token could leave it valid.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64url_value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Mac hmac_sha256(std::string_view key, std::string_view data) {
  Mac mac{};
  unsigned int length = 0;
  if (key.size() > std::size_t(INT_MAX) ||
      HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           mac.data(), &length) == nullptr ||
      length != mac.size()) {
    throw std::runtime_error("djproxy: HMAC-SHA256 failed in OpenSSL");
  }
  return mac;
}

bool is_lower_hex_id(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool token_char(char c) {
  return base64url_value(c) >= 0 || c == '.';
}

std::string single_quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '\'').append(s).append(1, '\'');
  return out;
}

// The payload's own rules, shared by issue() (before signing) and verify() (after).
// Empty string: the token is well formed.
std::string token_problem(const MigrationToken& t) {
  if (!is_lower_hex_id(t.id)) return "its id is not 32 hexadecimal digits";
  if (t.scope.empty()) return "its scope names no schema";
  if (t.scope.size() > kMaxScopeEntries) {
    return "its scope has more than " + std::to_string(kMaxScopeEntries) + " patterns";
  }
  for (const auto& p : t.scope) {
    if (!valid_pattern(p)) return "its scope pattern " + single_quoted(p) + " is not a schema name or a name ending in *";
  }
  if (t.issued_at < 0 || t.issued_at > kLatestTime || t.expires_at < 0 || t.expires_at > kLatestTime) {
    return "its times are outside 1970..9999";
  }
  if (t.expires_at <= t.issued_at) return "it expires before it was issued";
  if (t.note.size() > kMaxNoteBytes) return "its note is longer than " + std::to_string(kMaxNoteBytes) + " bytes";
  return {};
}

std::variant<MigrationToken, std::string> parse_payload(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::string("its payload is not a JSON object");

  // A field this version does not know could be a restriction added by a newer
  // issuer; ignoring it would grant more than intended, so refuse.
  static constexpr std::array<std::string_view, 5> known{"exp", "iat", "id", "note", "scope"};
  for (const auto& [name, _] : doc.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return "its payload has a field this djproxy does not know, " + single_quoted(name) + " (issued by a newer version?)";
    }
  }
  for (auto name : known) {
    if (!doc.contains(name)) return "its payload lacks the field " + single_quoted(name);
  }

  auto integer = [&](const char* name) -> std::optional<std::int64_t> {
    const auto& v = doc[name];
    if (v.is_number_unsigned()) {
      auto u = v.get<std::uint64_t>();
      if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
      return std::int64_t(u);
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    return std::nullopt;
  };

  MigrationToken t;
  if (!doc["id"].is_string()) return std::string("its field 'id' is not a string");
  t.id = doc["id"].get<std::string>();
  if (!doc["note"].is_string()) return std::string("its field 'note' is not a string");
  t.note = doc["note"].get<std::string>();
  auto iat = integer("iat");
  if (!iat) return std::string("its field 'iat' (issued at) is not a whole number of seconds");
  t.issued_at = *iat;
  auto exp = integer("exp");
  if (!exp) return std::string("its field 'exp' (expires at) is not a whole number of seconds");
  t.expires_at = *exp;
  if (!doc["scope"].is_array()) return std::string("its field 'scope' is not a list");
  for (const auto& p : doc["scope"]) {
    if (!p.is_string()) return std::string("its field 'scope' holds something other than schema names");
    t.scope.push_back(p.get<std::string>());
  }
  if (auto problem = token_problem(t); !problem.empty()) return problem;
  return t;
}

struct Parts {
  bool ed25519 = false;          // which scheme the tag names
  std::string_view signed_part;  // "djm1.<payload>" or "dje1.<payload>"
  std::string_view payload;
  std::string_view signature;
};

// Splits and checks the alphabet; the error, if any, is a "malformed" detail.
std::variant<Parts, std::string> split(std::string_view text) {
  if (text.empty()) return std::string("it is empty");
  if (text.size() > kMaxTokenChars) {
    return "it is longer than " + std::to_string(kMaxTokenChars) + " characters";
  }
  // The usual accident is a copy-paste that took a space or a line break along.
  if (std::any_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
    return std::string("it contains whitespace; copy the token alone, without spaces or line breaks");
  }
  if (!std::all_of(text.begin(), text.end(), token_char)) {
    return std::string("it contains a character other than A-Z a-z 0-9 . _ -");
  }
  const std::string hmac_tag = std::string(kTokenTag) + ".";
  const std::string ed_tag = std::string(kEd25519TokenTag) + ".";
  const bool ed25519 = text.starts_with(ed_tag);
  if (!ed25519 && !text.starts_with(hmac_tag)) {
    return "it does not start with " + single_quoted(hmac_tag) + " or " + single_quoted(ed_tag);
  }
  const std::string& tag = ed25519 ? ed_tag : hmac_tag;
  auto second = text.find('.', tag.size());
  if (second == std::string_view::npos || text.find('.', second + 1) != std::string_view::npos) {
    return "it is not three parts separated by dots (" + tag + "<payload>.<signature>)";
  }
  Parts p;
  p.ed25519 = ed25519;
  p.signed_part = text.substr(0, second);
  p.payload = text.substr(tag.size(), second - tag.size());
  p.signature = text.substr(second + 1);
  if (p.payload.empty()) return std::string("its payload part is empty");
  if (p.signature.empty()) return std::string("its signature part is empty");
  return p;
}

TokenCheck fail(TokenStatus status, std::string message, std::optional<MigrationToken> token = std::nullopt) {
  return {status, std::move(token), std::move(message)};
}

TokenCheck malformed(std::string_view detail) {
  return fail(TokenStatus::malformed, "djproxy: migration token is malformed: " + std::string(detail));
}

}  // namespace

std::string_view to_string(TokenStatus status) {
  switch (status) {
    case TokenStatus::ok: return "ok";
    case TokenStatus::malformed: return "malformed";
    case TokenStatus::bad_signature: return "bad_signature";
    case TokenStatus::expired: return "expired";
    case TokenStatus::not_yet_valid: return "not_yet_valid";
    case TokenStatus::too_long_lived: return "too_long_lived";
    case TokenStatus::scope_outside_prefix: return "scope_outside_prefix";
    case TokenStatus::weak_key: return "weak_key";
  }
  return "unknown";
}

std::string new_token_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), int(bytes.size())) != 1) {
    throw std::runtime_error("djproxy: the OpenSSL random generator failed; no token id");
  }
  static constexpr std::string_view hex = "0123456789abcdef";
  std::string id;
  for (auto b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 15];
  }
  return id;
}

namespace {

// "<tag>.<base64url(payload)>": the part the signature covers.
std::string signed_part(const MigrationToken& token, std::string_view tag) {
  if (auto problem = token_problem(token); !problem.empty()) {
    throw std::invalid_argument("djproxy: cannot issue the migration token: " + problem);
  }
  json doc = {{"id", token.id},
              {"scope", token.scope},
              {"iat", token.issued_at},
              {"exp", token.expires_at},
              {"note", token.note}};
  std::string payload;
  try {
    payload = doc.dump();
  } catch (const json::type_error&) {
    throw std::invalid_argument("djproxy: cannot issue the migration token: its note or scope is not valid UTF-8");
  }
  return std::string(tag) + "." + base64url_encode(payload);
}

}  // namespace

std::string issue(const MigrationToken& token, std::string_view key) {
  if (key.size() < kMinKeyBytes) {
    throw std::invalid_argument("djproxy: the migration key is " + std::to_string(key.size()) +
                                " bytes; signing tokens needs at least " + std::to_string(kMinKeyBytes));
  }
  std::string text = signed_part(token, kTokenTag);
  Mac mac = hmac_sha256(key, text);
  text += ".";
  text += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return text;
}

std::string issue(const MigrationToken& token, const Ed25519Key& private_key) {
  if (!private_key.has_private()) {
    throw std::invalid_argument("djproxy: signing a migration token needs the Ed25519 private key; this is the "
                                "public key, which can only verify");
  }
  std::string text = signed_part(token, kEd25519TokenTag);
  std::string signature = private_key.sign(text);
  text += ".";
  text += base64url_encode(signature);
  return text;
}

TokenCheck verify(std::string_view text, std::string_view key, std::int64_t now, std::string_view schema_prefix,
                  std::chrono::seconds max_ttl) {
  return verify(text, TokenKeys{key, nullptr}, now, schema_prefix, max_ttl);
}

TokenCheck verify(std::string_view text, const TokenKeys& keys, std::int64_t now, std::string_view schema_prefix,
                  std::chrono::seconds max_ttl) {
  const std::string_view key = keys.hmac_key;
  // No length in the message: the client reading the ERR has no business knowing it.
  if (key.empty() && keys.public_key == nullptr) {
    return fail(TokenStatus::weak_key, "djproxy: migration tokens are refused: this proxy has no migration key "
                                       "(migration.public_key or migration.key)");
  }
  if (!key.empty() && key.size() < kMinKeyBytes) {
    return fail(TokenStatus::weak_key, "djproxy: migration tokens are refused: this proxy's migration key is shorter "
                                       "than " + std::to_string(kMinKeyBytes) + " bytes (migration.key)");
  }

  auto split_result = split(text);
  if (auto* detail = std::get_if<std::string>(&split_result)) return malformed(*detail);
  const auto& parts = std::get<Parts>(split_result);

  // A token is checked only by the scheme its tag names, and only with that
  // scheme's own key: a public-key sidecar never falls back to HMAC, nor the reverse.
  if (parts.ed25519 && keys.public_key == nullptr) {
    return fail(TokenStatus::weak_key, "djproxy: migration token is signed with Ed25519 (" +
                                           std::string(kEd25519TokenTag) +
                                           "), but this proxy has no public key to check it (migration.public_key)");
  }
  if (!parts.ed25519 && key.empty()) {
    return fail(TokenStatus::weak_key, "djproxy: migration token is signed with an HMAC key (" +
                                           std::string(kTokenTag) +
                                           "), but this proxy accepts only Ed25519 tokens (migration.public_key); "
                                           "issue it with the private key");
  }

  auto signature = base64url_decode(parts.signature);
  if (!signature) return malformed("its signature part is not base64url");
  const std::size_t expected_size = parts.ed25519 ? kEd25519SignatureBytes : Mac{}.size();
  if (signature->size() != expected_size) {
    return malformed("its signature is " + std::to_string(signature->size()) + " bytes, not " +
                     std::to_string(expected_size));
  }
  bool signature_ok = false;
  if (parts.ed25519) {
    signature_ok = keys.public_key->verify(parts.signed_part, *signature);
  } else {
    Mac expected = hmac_sha256(key, parts.signed_part);
    signature_ok = CRYPTO_memcmp(expected.data(), signature->data(), expected.size()) == 0;
  }
  if (!signature_ok) {
    return fail(TokenStatus::bad_signature,
                std::string("djproxy: migration token signature does not match this proxy's ") +
                    (parts.ed25519 ? "public key (migration.public_key)" : "migration key") +
                    ": it was signed with another key (or the key was rotated since), or it was altered");
  }

  // Only now is the payload trusted enough to be read.
  auto payload = base64url_decode(parts.payload);
  if (!payload) return malformed("its payload part is not base64url");
  auto parsed = parse_payload(*payload);
  if (auto* detail = std::get_if<std::string>(&parsed)) return malformed(*detail);
  auto& token = std::get<MigrationToken>(parsed);

  if (now >= token.expires_at) {
    return fail(TokenStatus::expired, "djproxy: migration token expired at " + format_time(token.expires_at),
                std::move(token));
  }
  if (token.issued_at > now + kClockSkewSeconds) {
    return fail(TokenStatus::not_yet_valid,
                "djproxy: migration token is not valid yet: it was issued at " + format_time(token.issued_at) +
                    ", but this proxy's clock says " + format_time(now) + "; check the clocks",
                std::move(token));
  }
  std::int64_t lifetime = token.expires_at - token.issued_at;
  if (lifetime > max_ttl.count()) {
    return fail(TokenStatus::too_long_lived,
                "djproxy: migration token lives " + format_seconds(lifetime) + " (" + format_time(token.issued_at) +
                    " to " + format_time(token.expires_at) + "), longer than migration.max_token_ttl (" +
                    format_seconds(max_ttl.count()) + ") allows",
                std::move(token));
  }
  for (const auto& pattern : token.scope) {
    if (!pattern_inside_prefix(pattern, schema_prefix)) {
      return fail(TokenStatus::scope_outside_prefix,
                  "djproxy: migration token scope " + single_quoted(pattern) + " is outside the schema prefix " +
                      single_quoted(schema_prefix),
                  std::move(token));
    }
  }
  std::string message = "djproxy: migration token " + token.id + " accepted until " + format_time(token.expires_at);
  return {TokenStatus::ok, std::move(token), std::move(message)};
}

std::optional<MigrationToken> decode_unverified(std::string_view text) {
  auto split_result = split(text);
  const auto* parts = std::get_if<Parts>(&split_result);
  if (parts == nullptr) return std::nullopt;
  auto payload = base64url_decode(parts->payload);
  if (!payload) return std::nullopt;
  auto parsed = parse_payload(*payload);
  if (auto* token = std::get_if<MigrationToken>(&parsed)) return std::move(*token);
  return std::nullopt;
}

bool scope_covers(const std::vector<std::string>& scope, std::string_view schema) {
  if (schema.empty()) return false;
  return std::any_of(scope.begin(), scope.end(), [schema](std::string_view pattern) {
    if (pattern.ends_with('*')) return schema.starts_with(pattern.substr(0, pattern.size() - 1));
    return schema == pattern;
  });
}

bool valid_pattern(std::string_view pattern) {
  if (pattern == "*") return true;
  std::string_view name = pattern.ends_with('*') ? pattern.substr(0, pattern.size() - 1) : pattern;
  if (name.empty() || name.size() > kMaxSchemaNameBytes) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == '*' || c == '`';
  });
}

bool pattern_inside_prefix(std::string_view pattern, std::string_view prefix) {
  if (prefix.empty()) return true;
  std::string_view stem = pattern.ends_with('*') ? pattern.substr(0, pattern.size() - 1) : pattern;
  return stem.starts_with(prefix);
}

std::string format_time(std::int64_t unix_seconds) {
  std::tm tm{};
  auto t = static_cast<std::time_t>(unix_seconds);
  char buffer[32];
  if (unix_seconds < 0 || unix_seconds > kLatestTime || gmtime_r(&t, &tm) == nullptr ||
      std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return std::string("@").append(std::to_string(unix_seconds));
  }
  return buffer;
}

std::string format_seconds(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  if (seconds < 0) {
    out = "-";
    // Negating INT64_MIN overflows; no real duration gets there.
    seconds = seconds == std::numeric_limits<std::int64_t>::min() ? std::numeric_limits<std::int64_t>::max() : -seconds;
  }
  // Hours are the largest unit, as in the config module's durations: the same
  // lifetime then reads the same in `djproxy config` and in a token message.
  static constexpr std::array<std::pair<std::int64_t, char>, 3> units{{{3600, 'h'}, {60, 'm'}, {1, 's'}}};
  for (auto [size, suffix] : units) {
    if (seconds >= size) {
      out += std::to_string(seconds / size);
      out += suffix;
      seconds %= size;
    }
  }
  return out;
}

}  // namespace djproxy::migration
