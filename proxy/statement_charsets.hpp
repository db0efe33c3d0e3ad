#pragma once
// The client character set each statement prepared over the binary protocol was read in,
// by statement id (policy::CommandRequest::prepared_charset). A session may hold up to
// kMax of them, past the server's own max_prepared_stmt_count, and each execution looks
// its statement up: a scan of the list made an execution cost up to kMax comparisons.
// MariaDB numbers a connection's statements in increasing order, so appending keeps the
// list sorted and a lookup is a binary search; an id out of order, which the server does
// not send, is still put in its place, so the order holds whatever arrives.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "policy/types.hpp"

namespace djproxy::proxy {

class StatementCharsets {
 public:
  static constexpr std::size_t kMax = 16384;

  // At the bound the lowest id goes, the oldest statement; executed later, it is
  // refused as not seen prepared.
  void add(std::uint32_t id, policy::CharsetClass charset) {
    auto at = position(id);
    if (at != entries_.end() && at->id == id) {
      at->charset = charset;  // the newer prepare of the id is the one the server runs
      return;
    }
    if (entries_.size() >= kMax) {
      entries_.erase(entries_.begin());
      at = position(id);
    }
    entries_.insert(at, Entry{id, charset});
  }

  std::optional<policy::CharsetClass> find(std::uint32_t id) const {
    const auto at = position(id);
    if (at == entries_.end() || at->id != id) return std::nullopt;
    return at->charset;
  }

  void erase(std::uint32_t id) {
    const auto at = position(id);
    if (at != entries_.end() && at->id == id) entries_.erase(at);
  }

  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t id;
    policy::CharsetClass charset;
  };
  std::vector<Entry>::const_iterator position(std::uint32_t id) const {
    return std::lower_bound(entries_.begin(), entries_.end(), id, [](const Entry& e, std::uint32_t v) { return e.id < v; });
  }
  std::vector<Entry>::iterator position(std::uint32_t id) {
    return std::lower_bound(entries_.begin(), entries_.end(), id, [](const Entry& e, std::uint32_t v) { return e.id < v; });
  }

  std::vector<Entry> entries_;
};

}  // namespace djproxy::proxy
