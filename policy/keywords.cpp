#include "policy/keywords.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

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

constexpr char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Hash of the upper-case spelling; every word of the statement is looked up, so
// the look-up is one hash and (almost always) one comparison, as in SQLite.
constexpr std::uint32_t hash_upper(std::string_view w) {
  std::uint32_t h = 2166136261u;
  for (char c : w) h = (h ^ static_cast<unsigned char>(upper(c))) * 16777619u;
  return h ^ static_cast<std::uint32_t>(w.size());
}

constexpr std::size_t kSlots = 1024;  // a power of two, over four times the keywords

// Open addressing with linear probing; a slot holds 1 + the index into kTable.
constexpr auto make_slots() {
  std::array<std::uint16_t, kSlots> slots{};
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    std::size_t at = hash_upper(kTable[i].name) & (kSlots - 1);
    while (slots[at] != 0) at = (at + 1) & (kSlots - 1);
    slots[at] = static_cast<std::uint16_t>(i + 1);
  }
  return slots;
}

constexpr auto kSlotsTable = make_slots();

constexpr auto make_names() {
  std::array<std::string_view, kTable.size() + 1> names{};
  for (const auto& e : kTable) names[static_cast<std::size_t>(e.kw)] = e.name;
  return names;
}

constexpr auto kNames = make_names();

}  // namespace

Kw lookup_keyword(std::string_view word) noexcept {
  if (word.size() < 2 || word.size() > kMaxLen) return Kw::none;
  std::size_t at = hash_upper(word) & (kSlots - 1);
  while (const std::uint16_t slot = kSlotsTable[at]) {
    const Entry& e = kTable[slot - 1u];
    if (e.name.size() == word.size()) {
      std::size_t i = 0;
      while (i < word.size() && upper(word[i]) == e.name[i]) ++i;
      if (i == word.size()) return e.kw;
    }
    at = (at + 1) & (kSlots - 1);
  }
  return Kw::none;
}

std::string_view keyword_name(Kw kw) noexcept {
  const auto i = static_cast<std::size_t>(kw);
  return i < kNames.size() ? kNames[i] : std::string_view();
}

}  // namespace djproxy::policy
