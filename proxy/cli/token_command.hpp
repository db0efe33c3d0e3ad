#pragma once
// `djproxy token keygen`, `djproxy token issue` and `djproxy token inspect`: migration tokens for DBAs,
// signed and checked with the key and prefix from the same layered settings
// `serve` reads, so a token that verifies here verifies on every proxy sharing them.
// Exit 0 on success, 1 when the token is refused or does not verify, 2 when the
// settings cannot be loaded (as `serve`).

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/loader.hpp"

namespace djproxy::cli {

struct TokenIssueRequest {
  std::vector<std::string> schemas;  // --schema, repeatable
  std::string ttl;                   // --ttl, a config duration (30m, 2h, 1h30m)
  std::string note;                  // --note
  std::string private_key{};         // --private-key: Ed25519 PEM path, over migration.private_key
  std::string token_file{};          // --token-file: the token goes to this new file, not to `out`
};

void add_token_command(CLI::App& app);

// The commands without CLI11 or the clock, for tests. `now` is unix seconds.
// issue prints the fields, then the token alone on the last line of `out`; with
// token_file, the token goes only to that file (created, never overwritten, mode 0640).
int run_token_issue(const config::LoadOptions& options, const TokenIssueRequest& request, std::int64_t now,
                    std::ostream& out, std::ostream& err);
// Writes PREFIX.key (PEM private key, mode 0600) and PREFIX.pub (PEM public key);
// refuses, writing nothing, when either exists.
int run_token_keygen(const std::string& prefix, std::ostream& out, std::ostream& err);
int run_token_inspect(const config::LoadOptions& options, std::string_view token, std::int64_t now,
                      std::ostream& out, std::ostream& err);

}  // namespace djproxy::cli
