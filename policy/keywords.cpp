#include "policy/keywords.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace djproxy::policy {
namespace {

struct Entry {
  std::string_view name;
  Kw kw;
};

constexpr std::string_view strip_underscore(std::string_view s) {
  // NULL_ is spelled with a trailing underscore only to dodge the macro NULL.
  return s == "NULL_" ? std::string_view("NULL") : s;
}

constexpr auto make_table() {
  std::array<Entry, 0
#define DJPROXY_KW_COUNT(name) +1
                        DJPROXY_KEYWORDS(DJPROXY_KW_COUNT)
#undef DJPROXY_KW_COUNT
             >
      table{};
  std::size_t i = 0;
#define DJPROXY_KW_ENTRY(name) table[i++] = Entry{strip_underscore(#name), Kw::name};
  DJPROXY_KEYWORDS(DJPROXY_KW_ENTRY)
#undef DJPROXY_KW_ENTRY
  std::sort(table.begin(), table.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return table;
}

constexpr auto kTable = make_table();
constexpr std::size_t kMaxLen = 24;

}  // namespace

Kw lookup_keyword(std::string_view word) noexcept {
  if (word.size() < 2 || word.size() > kMaxLen) return Kw::none;
  char up[kMaxLen];
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    up[i] = c;
  }
  const std::string_view key(up, word.size());
  auto it = std::lower_bound(kTable.begin(), kTable.end(), key,
                             [](const Entry& e, std::string_view k) { return e.name < k; });
  if (it != kTable.end() && it->name == key) return it->kw;
  return Kw::none;
}

std::string_view keyword_name(Kw kw) noexcept {
  for (const auto& e : kTable)
    if (e.kw == kw) return e.name;
  return {};
}

}  // namespace djproxy::policy
